using Google.Protobuf;
using ReBench.Audit;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Audit;

/// <summary>The audit methods of the public orchestrator API, shaped for gRPC (Grpc/AuditGrpc delegates here).</summary>
public sealed class AuditApi(AttemptAuditor auditor, CampaignAuditor campaigns, ResultsAuditor results, Blobs.BlobStore blobs)
{
    public async Task<VerifyAttemptResponse> VerifyAsync(Guid attemptId, CancellationToken ct)
    {
        var r = await auditor.VerifyAsync(attemptId, ct);
        return new VerifyAttemptResponse
        {
            AttemptId = attemptId.ToString(), Ok = r.Ok, EventsChecked = r.EventsChecked, BrokenAt = r.BrokenAt, Problem = r.Problem ?? "",
            Sealed = r.Sealed, SealedVersion = r.SealedVersion, KeyId = r.KeyId ?? "", HeadHash = r.HeadHash,
            BrokenBlobSha256 = r.BrokenBlob ?? "", BlobsChecked = r.BlobsChecked,
        };
    }

    public async Task<VerifyCampaignResponse> VerifyCampaignAsync(Guid campaignId, CancellationToken ct)
    {
        var r = await campaigns.VerifyAsync(campaignId, ct);
        var response = new VerifyCampaignResponse
        {
            CampaignId = campaignId.ToString(), Ok = r.Ok, EventsChecked = r.EventsChecked, BrokenAt = r.BrokenAt, Problem = r.Problem ?? "",
            BrokenAttemptId = r.BrokenAttempt ?? "", BrokenBlobSha256 = r.BrokenBlob ?? "", Sealed = r.Sealed, KeyId = r.KeyId ?? "",
            HeadHash = r.HeadHash, AttemptsChecked = r.AttemptsChecked, UnsealedReason = r.UnsealedReason ?? "",
        };
        // The results reports read, against the sealed record: a chain that verifies says nothing about a store row
        // edited after it was written.
        var events = await campaigns.ReadAsync(campaignId, ct);
        var ids = events.Count == 0 ? null : CampaignVerifier.AttemptIds(events[0].DataJson);
        var check = ids is null
            ? new ResultsCheck(false, 0, [], 0, "the campaign's first event does not list its attempts")
            : await results.CheckCampaignAsync(campaignId, ids.Select(Guid.Parse).ToList(), ct);
        response.ResultsChecked = check.Checked;
        response.ResultRowsChecked = check.RowsChecked;
        response.ResultDifferences.AddRange(check.Differences);
        response.ResultsUnbound = check.Unbound;
        response.ResultsProblem = check.Problem ?? "";
        if (!check.Ok)
        {
            response.Ok = false;
            // The chain's own problem, when there is one, stays first.
            if (response.Problem.Length == 0)
                response.Problem = check.Problem ?? $"the results store differs from the sealed record in {check.Differences.Select(d => d.AttemptId).Distinct().Count()} row(s)";
        }
        return response;
    }

    public async Task ExportCampaignAsync(Guid campaignId, IServerStreamWriter<V1.StoredEvent> output, CancellationToken ct)
    {
        foreach (var e in await campaigns.ReadAsync(campaignId, ct))
            await output.WriteAsync(new V1.StoredEvent { Version = e.Version, EventType = e.Type, DataJson = e.DataJson, ChainHash = e.Hash ?? "", Archived = e.Archived }, ct);
    }

    /// <summary>A blob after re-hashing it: InvalidArgument for a malformed digest, NotFound, DataLoss when corrupt.</summary>
    public async Task<V1.Blob> GetBlobAsync(string sha256, CancellationToken ct)
    {
        var digest = (sha256 ?? "").Trim().ToLowerInvariant();
        if (!BlobReferences.IsDigest(digest))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"sha256 must be 64 hex digits (a SHA-256), got '{Guard.Quote(sha256)}'"));
        byte[]? bytes;
        try { bytes = await blobs.GetAsync(digest, ct); }
        catch (Blobs.BlobCorruptException e) { throw new RpcException(new Status(StatusCode.DataLoss, e.Message)); }
        return bytes is null
            ? throw new RpcException(new Status(StatusCode.NotFound, $"blob {digest} does not exist"))
            : new V1.Blob { Sha256 = digest, Size = bytes.LongLength, Content = ByteString.CopyFrom(bytes) };
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
