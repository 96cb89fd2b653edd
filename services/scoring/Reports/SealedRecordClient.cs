using Grpc.Core;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Reports;

/// <summary>Results derived from the orchestrator's sealed streams, what a report's inputs are checked against.</summary>
public interface ISealedRecord
{
    /// <summary>One result per attempt asked for, and per attempt of <paramref name="campaignIds"/>, from one call.</summary>
    Task<IReadOnlyList<BoundResult>> DeriveAsync(IReadOnlyCollection<Guid> attemptIds, IReadOnlyCollection<Guid> campaignIds, CancellationToken ct);
}

/// <summary>The orchestrator's platform-only SealedRecord service at Services:Orchestrator.</summary>
public sealed class OrchestratorSealedRecord(IServiceProvider services, IConfiguration config) : ISealedRecord
{
    public async Task<IReadOnlyList<BoundResult>> DeriveAsync(IReadOnlyCollection<Guid> attemptIds, IReadOnlyCollection<Guid> campaignIds, CancellationToken ct)
    {
        if (attemptIds.Count == 0 && campaignIds.Count == 0) return [];
        if (string.IsNullOrWhiteSpace(config["Services:Orchestrator"]))
            throw Guard.FailedPrecondition("inputs cannot be checked against the sealed record: the scoring service has no Services:Orchestrator address");
        var client = services.GetRequiredService<SealedRecord.SealedRecordClient>();
        try
        {
            var response = await client.ListSealedResultsAsync(new ListSealedResultsRequest
            {
                AttemptIds = { attemptIds.Select(a => a.ToString()) }, CampaignIds = { campaignIds.Select(c => c.ToString()) },
            },
                cancellationToken: ct);
            return response.Results;
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.Cancelled or StatusCode.DeadlineExceeded))
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"inputs could not be checked against the sealed record: the orchestrator answered {e.StatusCode}: {Guard.Quote(e.Status.Detail, 200)}"));
        }
    }
}
