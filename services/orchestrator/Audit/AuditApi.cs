using Google.Protobuf;
using Grpc.Core;
using ReBench.Audit;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Audit;

/// <summary>The audit methods of the public orchestrator API, shaped for gRPC (OrchestratorGrpc delegates here).</summary>
public sealed class AuditApi(AttemptAuditor auditor)
{
    public async Task<VerifyAttemptResponse> VerifyAsync(Guid attemptId, CancellationToken ct)
    {
        var r = await auditor.VerifyAsync(attemptId, ct);
        return new VerifyAttemptResponse
        {
            AttemptId = attemptId.ToString(), Ok = r.Ok, EventsChecked = r.EventsChecked, BrokenAt = r.BrokenAt, Problem = r.Problem ?? "",
            Sealed = r.Sealed, SealedVersion = r.SealedVersion, KeyId = r.KeyId ?? "", HeadHash = r.HeadHash,
        };
    }

    public GetPublicKeyResponse PublicKey()
    {
        var key = auditor.Key;
        var response = new GetPublicKeyResponse { Current = Proto(key.KeyId, key.Signer.PublicKey) };
        response.Trusted.AddRange(key.Trusted.Select(k => Proto(k.Key, k.Value)));
        return response;
    }

    public async Task ExportAsync(Guid attemptId, IServerStreamWriter<V1.StoredEvent> output, CancellationToken ct)
    {
        var (events, _) = await auditor.ReadAsync(attemptId, ct);
        foreach (var e in events)
        {
            await output.WriteAsync(new V1.StoredEvent
            {
                Version = e.Version, EventType = e.Type, DataJson = e.DataJson, ChainHash = e.Hash ?? "", Archived = e.Archived,
            }, ct);
        }
    }

    private static PublicKey Proto(string keyId, byte[] key) =>
        new() { Algorithm = Seals.Algorithm, KeyId = keyId, PublicKey_ = ByteString.CopyFrom(key) };
}
