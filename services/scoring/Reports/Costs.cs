namespace ReBench.Scoring.Reports;

public sealed record AttemptCostLine(AttemptResult Attempt, double CostUsd, string Basis);

public sealed record CampaignCostLine(Guid CampaignId, int Attempts, double CostUsd, long ModelCalls, double WorkingHours);

public sealed record CostReport(IReadOnlyList<AttemptCostLine> Attempts, IReadOnlyList<CampaignCostLine> Campaigns, double TotalUsd);

/// <summary>
/// Cost per attempt and per campaign. An agent attempt's cost is what the orchestrator summed from its model-call
/// records; a human's is hourly rate x hours, fixed at import. Every terminal status counts: a failed attempt
/// spent its money too. A human row imported without a rate has basis "unknown" and adds 0.
/// </summary>
public static class Costs
{
    /// <summary>Hourly rate x working hours, the cost of a human expert's attempt.</summary>
    public static double HumanCost(double hourlyRateUsd, double hours) => hourlyRateUsd * hours;

    public static CostReport Compute(IEnumerable<AttemptResult> results)
    {
        var lines = results
            .OrderBy(r => r.CampaignId).ThenBy(r => r.FinishedAt).ThenBy(r => r.AttemptId)
            .Select(r => new AttemptCostLine(r, double.IsFinite(r.CostUsd) ? r.CostUsd : 0, r.CostBasis))
            .ToList();
        var campaigns = lines.GroupBy(l => l.Attempt.CampaignId)
            .Select(g => new CampaignCostLine(g.Key, g.Count(), g.Sum(l => l.CostUsd), g.Sum(l => l.Attempt.ModelCalls),
                g.Sum(l => l.Attempt.WorkingSeconds) / 3600))
            .ToList();
        return new CostReport(lines, campaigns, lines.Sum(l => l.CostUsd));
    }
}
