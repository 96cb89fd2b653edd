using ReBench.Orchestrator.V1;
using ReBench.Scoring.V1;

namespace ReBench.Orchestrator.Audit;

/// <summary>What checking the results store against the sealed record found; Problem is set when it could not be checked.</summary>
public sealed record ResultsCheck(bool Checked, int RowsChecked, IReadOnlyList<ResultDifference> Differences, int Unbound, string? Problem)
{
    public bool Ok => Checked && Differences.Count == 0;
}

/// <summary>
/// The results half of VerifyCampaign: derives each of the campaign's attempts' results from their sealed streams
/// (one read) and has the scoring service compare its stored rows of the campaign with them (one call).
/// </summary>
public sealed class ResultsAuditor(SealedResults sealedResults, Scoring.V1.Scoring.ScoringClient scoring, TimeProvider time)
{
    // A result reaches the store from the bus a moment after its attempt ends; a check right after a campaign ends
    // waits this long for rows that are only missing, not different.
    private const int MissingRetries = 10;
    private static readonly TimeSpan MissingRetryDelay = TimeSpan.FromMilliseconds(500);

    public async Task<ResultsCheck> CheckCampaignAsync(Guid campaignId, IReadOnlyList<Guid> attemptIds, CancellationToken ct)
    {
        var derived = await sealedResults.DeriveAsync(attemptIds, ct);
        var request = new CheckResultsRequest { CampaignIds = { campaignId.ToString() }, Sealed = { derived } };
        for (var i = 0; ; i++)
        {
            CheckResultsResponse r;
            try
            {
                r = await scoring.CheckResultsAsync(request, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                return new ResultsCheck(false, 0, [], 0, $"the scoring service could not check its results store ({e.StatusCode}: {e.Status.Detail})");
            }
            var onlyMissing = r.Differences.Count > 0 && r.Differences.All(d => d is { Field: "row", Stored: "missing" });
            if (!onlyMissing || i >= MissingRetries) return new ResultsCheck(true, r.RowsChecked, [.. r.Differences], r.Unbound, null);
            await Task.Delay(MissingRetryDelay, time, ct);
        }
    }
}
