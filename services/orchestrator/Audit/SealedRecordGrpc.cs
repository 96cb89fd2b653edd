using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// The platform-only SealedRecord service (protos/sealed_record.proto; the gateway routes none of it): results derived
/// from sealed streams, which the scoring service checks a report's inputs against.
/// </summary>
public sealed class SealedRecordGrpc(SealedResults results, CampaignStore campaigns, AttemptCorrections corrections) : SealedRecord.SealedRecordBase
{
    private const int MaxCampaigns = 100;

    public override async Task<ListSealedResultsResponse> ListSealedResults(ListSealedResultsRequest request, ServerCallContext context)
    {
        Guard.Count(request.AttemptIds.Count, "attempt_ids", SealedResults.MaxAttempts);
        Guard.Count(request.CampaignIds.Count, "campaign_ids", MaxCampaigns);
        var ids = request.AttemptIds.Select(a => Guard.Id(a, "attempt_ids[]")).ToList();
        foreach (var campaignId in request.CampaignIds.Select(c => Guard.Id(c, "campaign_ids[]")).Distinct())
        {
            // Not a campaign of this platform (a human import's batch id, say): it has no sealed attempts to expect.
            if (await campaigns.TryLoadAsync(campaignId, context.CancellationToken) is { } campaign) ids.AddRange(campaign.AttemptIds);
        }
        ids = ids.Distinct().ToList();
        if (ids.Count > SealedResults.MaxAttempts)
            throw Guard.FailedPrecondition($"{ids.Count} attempts asked for; at most {SealedResults.MaxAttempts} in one call");
        var derived = await results.DeriveAsync(ids, context.CancellationToken);
        // Each attempt's corrections from its own chained stream (one read per attempt that has a sealed stream).
        foreach (var result in derived.Where(r => r.Problem.Length == 0))
        {
            var listed = await corrections.ListAsync(Guid.Parse(result.AttemptId), context.CancellationToken);
            result.CorrectionsProblem = listed.ChainOk ? "" : listed.Problem is { Length: > 0 } p ? p : "the corrections stream does not verify";
            result.Corrections.AddRange(listed.Corrections.Select(c => new SealedCorrection
            {
                Number = c.Number, Kind = c.Kind, Reason = c.Reason, Detail = c.Detail, Actor = c.Actor, Role = c.Role,
            }));
        }
        return new ListSealedResultsResponse { Results = { derived } };
    }
}
