using ReBench.Orchestrator.Access;
using ReBench.Orchestrator.Audit;
using ReBench.Orchestrator.V1;
using static ReBench.Orchestrator.Grpc.ApiCalls;

namespace ReBench.Orchestrator.Grpc;

/// <summary>
/// gRPC adapter of the public Audit service: verification, exports, blobs, the access log and corrections
/// (<see cref="AuditApi"/>, <see cref="AccessLog"/> and <see cref="AttemptCorrections"/> do the work).
/// </summary>
public sealed class AuditGrpc(AuditApi audit, AccessLog access, AttemptCorrections corrections) : V1.Audit.AuditBase
{
    public override Task<VerifyAttemptResponse> VerifyAttempt(VerifyAttemptRequest request, ServerCallContext context) =>
        audit.VerifyAsync(AttemptId(request.AttemptId), context.CancellationToken);

    public override Task<GetPublicKeyResponse> GetPublicKey(GetPublicKeyRequest request, ServerCallContext context) =>
        Task.FromResult(audit.PublicKey());

    public override Task ExportAttempt(ExportAttemptRequest request, IServerStreamWriter<V1.StoredEvent> responseStream, ServerCallContext context) =>
        audit.ExportAsync(AttemptId(request.AttemptId), responseStream, context.CancellationToken);

    public override Task<V1.Blob> GetBlob(GetBlobRequest request, ServerCallContext context) =>
        audit.GetBlobAsync(request.Sha256, context.CancellationToken);

    public override Task<VerifyCampaignResponse> VerifyCampaign(VerifyCampaignRequest request, ServerCallContext context) =>
        audit.VerifyCampaignAsync(CampaignId(request.CampaignId), context.CancellationToken);

    public override Task ExportCampaign(ExportCampaignRequest request, IServerStreamWriter<V1.StoredEvent> responseStream, ServerCallContext context) =>
        audit.ExportCampaignAsync(CampaignId(request.CampaignId), responseStream, context.CancellationToken);

    public override Task<ListAccessEventsResponse> ListAccessEvents(ListAccessEventsRequest request, ServerCallContext context) =>
        access.ListAsync(AttemptId(request.AttemptId), context.CancellationToken);

    public override Task<Correction> RecordCorrection(RecordCorrectionRequest request, ServerCallContext context) =>
        corrections.RecordAsync(AttemptId(request.AttemptId), request.Kind, request.Reason, request.Detail,
            Caller(context), Role(context), context.CancellationToken);

    public override Task<ListCorrectionsResponse> ListCorrections(ListCorrectionsRequest request, ServerCallContext context) =>
        corrections.ListAsync(AttemptId(request.AttemptId), context.CancellationToken);

    public override async Task ExportCorrections(ExportCorrectionsRequest request, IServerStreamWriter<V1.StoredEvent> responseStream, ServerCallContext context)
    {
        var (rows, _) = await corrections.ReadStoredAsync(AttemptId(request.AttemptId), context.CancellationToken);
        foreach (var e in rows)
        {
            await responseStream.WriteAsync(new V1.StoredEvent
            {
                Version = e.Version, EventType = e.Type, DataJson = e.DataJson, ChainHash = e.Hash ?? "", Archived = e.Archived,
            }, context.CancellationToken);
        }
    }
}
