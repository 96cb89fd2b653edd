using System.Globalization;
using ReBench.Orchestrator.V1;

namespace ReBench.Scoring.Reports;

/// <summary>What comparing stored rows with the sealed record found.</summary>
public sealed record BindingCheck(int RowsChecked, int Unbound, int NotSealed, IReadOnlyList<ResultDifference> Differences)
{
    public bool Ok => Differences.Count == 0;

    /// <summary>The first differences, one per clause, for a refusal or a verdict line (at most <paramref name="max"/>).</summary>
    public string Describe(int max = 10)
    {
        var shown = Differences.Take(max).Select(d => d.Field == "row"
            ? $"attempt {d.AttemptId}: row {d.Stored}, sealed record: {d.Sealed}"
            : $"attempt {d.AttemptId}: {d.Field} stored {d.Stored}, sealed {d.Sealed}");
        var more = Differences.Count > max ? $"; and {Differences.Count - max} more" : "";
        return string.Join("; ", shown) + more;
    }
}

/// <summary>
/// Compares results-store rows with the results derived from the orchestrator's sealed streams (pure). Every field a
/// report reads is compared; a row stored before binding existed ("unbound") is compared on all but its final event
/// number, chain link and audit-work mark, which it never had. Human rows are imported, never sealed: counted, not
/// compared.
/// </summary>
public static class ResultBinding
{
    /// <param name="missingRows">also name each attempt the sealed record says ended whose row is missing (a whole campaign is checked).</param>
    public static BindingCheck Compare(IEnumerable<AttemptResult> stored, IEnumerable<BoundResult> sealedResults, bool missingRows)
    {
        var byAttempt = new Dictionary<string, BoundResult>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in sealedResults) byAttempt.TryAdd(s.AttemptId, s);
        var differences = new List<ResultDifference>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int rows = 0, unbound = 0, notSealed = 0;
        foreach (var r in stored)
        {
            if (!r.FromOrchestrator)
            {
                notSealed++;
                // An imported row's id is a hash of its content, never an attempt's: a row the sealed record knows
                // is an attempt's row relabelled (its Source edited), which would count unchecked under its agent.
                if (byAttempt.TryGetValue(r.AttemptId.ToString(), out var known) && !known.Unknown)
                    differences.Add(new ResultDifference
                    {
                        AttemptId = r.AttemptId.ToString(), Field = "source", Stored = Clip(r.Source), Sealed = $"{AttemptResult.OrchestratorSource} (an attempt of the sealed record)",
                    });
                continue;
            }
            rows++;
            var id = r.AttemptId.ToString();
            seen.Add(id);
            if (!r.Bound) unbound++;
            if (!byAttempt.TryGetValue(id, out var s))
                differences.Add(Row(id, "stored", "the sealed record has no such attempt"));
            else if (s.Problem.Length > 0)
                differences.Add(Row(id, "stored", s.Problem));
            else if (!s.Finished)
                differences.Add(Row(id, "stored", "the attempt has not ended"));
            else
                differences.AddRange(Fields(r, s));
        }
        if (missingRows)
        {
            foreach (var s in byAttempt.Values.Where(s => s.Finished && s.Problem.Length == 0 && !seen.Contains(s.AttemptId)))
                differences.Add(Row(s.AttemptId, "missing", $"ended {s.Status} at event {s.FinalVersion}"));
        }
        return new BindingCheck(rows, unbound, notSealed, differences);
    }

    /// <summary>
    /// The corrections the results store holds for each attempt row against those of the attempt's chained corrections
    /// stream: any added, missing or changed one (a correction forged on the bus, one edited in the database) differs.
    /// </summary>
    public static IEnumerable<ResultDifference> Corrections(IEnumerable<AttemptResult> rows, IEnumerable<BoundResult> sealedResults,
        IEnumerable<ResultCorrection> stored)
    {
        var byAttempt = new Dictionary<string, BoundResult>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in sealedResults) byAttempt.TryAdd(s.AttemptId, s);
        var storedBy = stored.GroupBy(c => c.AttemptId).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Number).ToList());
        static string Text(long number, string kind, string reason, string detail, string actor, string role) =>
            $"#{number} {kind} by {actor} ({role}): {reason} {detail}";
        foreach (var r in rows.Where(r => r.FromOrchestrator))
        {
            var id = r.AttemptId.ToString();
            if (!byAttempt.TryGetValue(id, out var s) || s.Problem.Length > 0) continue; // named by Compare already
            var have = storedBy.TryGetValue(r.AttemptId, out var list) ? list.Select(c => Text(c.Number, c.Kind, c.Reason, c.Detail, c.Actor, c.Role)).ToList() : [];
            var want = s.Corrections.Select(c => Text(c.Number, c.Kind, c.Reason, c.Detail, c.Actor, c.Role)).ToList();
            if (s.CorrectionsProblem.Length > 0)
                yield return new ResultDifference { AttemptId = id, Field = "corrections", Stored = $"{have.Count} correction(s)", Sealed = Clip(s.CorrectionsProblem) };
            else if (!have.SequenceEqual(want, StringComparer.Ordinal))
                yield return new ResultDifference
                {
                    AttemptId = id, Field = "corrections",
                    Stored = Clip(have.Count == 0 ? "none" : string.Join("; ", have)), Sealed = Clip(want.Count == 0 ? "none" : string.Join("; ", want)),
                };
        }
    }

    /// <summary>
    /// A sealed result as the row it should have been stored as, for the fields a report filters on (task, variant,
    /// agent, campaign, budget, audit work): whether a report should have read it.
    /// </summary>
    public static AttemptResult AsStored(BoundResult s) => new()
    {
        AttemptId = Guid.TryParse(s.AttemptId, out var a) ? a : Guid.Empty,
        CampaignId = Guid.TryParse(s.CampaignId, out var c) ? c : Guid.Empty,
        TaskId = s.TaskId, Variant = s.Variant, Agent = s.Agent, Status = s.Status,
        TimeBudgetSeconds = s.TimeBudgetSeconds, AuditWork = s.AuditWork, FinalVersion = s.FinalVersion, ChainHash = s.ChainHash,
        Source = AttemptResult.OrchestratorSource,
    };

    /// <summary>The fields of one row that differ from its sealed result.</summary>
    public static IEnumerable<ResultDifference> Fields(AttemptResult r, BoundResult s)
    {
        var id = r.AttemptId.ToString();
        var diffs = new List<ResultDifference>();
        void Check(string field, string stored, string sealedValue)
        {
            if (!string.Equals(stored, sealedValue, StringComparison.Ordinal))
                diffs.Add(new ResultDifference { AttemptId = id, Field = field, Stored = Clip(stored), Sealed = Clip(sealedValue) });
        }
        Check("campaign_id", r.CampaignId.ToString(), s.CampaignId);
        Check("task_id", r.TaskId, s.TaskId);
        Check("variant", r.Variant, s.Variant);
        Check("agent", r.Agent, s.Agent);
        Check("status", r.Status, s.Status);
        Check("raw_score", Number(r.RawScore), s.HasRawScore ? Number(s.RawScore) : "none");
        Check("normalized_score", Number(r.NormalizedScore), s.HasNormalizedScore ? Number(s.NormalizedScore) : "none");
        Check("valid", Bool(r.Valid), Bool(s.Valid));
        Check("time_budget_seconds", Number(r.TimeBudgetSeconds), Number(s.TimeBudgetSeconds));
        Check("working_seconds", Number(r.WorkingSeconds), Number(s.WorkingSeconds));
        Check("cost_usd", Number(r.CostUsd), Number(s.CostUsd));
        Check("model_calls", r.ModelCalls.ToString(CultureInfo.InvariantCulture), s.ModelCalls.ToString(CultureInfo.InvariantCulture));
        Check("timeline", Timeline(r.Timeline), Timeline(s.Timeline));
        if (r.Bound)
        {
            Check("final_version", r.FinalVersion!.Value.ToString(CultureInfo.InvariantCulture), s.FinalVersion.ToString(CultureInfo.InvariantCulture));
            Check("chain_hash", r.ChainHash!, s.ChainHash);
            Check("audit_work", Bool(r.AuditWork), Bool(s.AuditWork));
        }
        else if (r.FinalVersion is not null || r.ChainHash is not null)
        {
            // Half a binding is not an old row: one of the two was removed or blanked.
            Check("final_version", r.FinalVersion?.ToString(CultureInfo.InvariantCulture) ?? "none", s.FinalVersion.ToString(CultureInfo.InvariantCulture));
            Check("chain_hash", string.IsNullOrEmpty(r.ChainHash) ? "none" : r.ChainHash, s.ChainHash);
        }
        return diffs;
    }

    // A timeline can be long; the difference names the field, the values only need to show it.
    private static string Clip(string s) => s.Length <= 120 ? s : s[..120] + "…";

    private static ResultDifference Row(string attemptId, string stored, string sealedValue) =>
        new() { AttemptId = attemptId, Field = "row", Stored = stored, Sealed = sealedValue };

    private static string Bool(bool b) => b ? "true" : "false";

    // Round-trip form: two doubles print alike only if they are the same double (NaN alike).
    private static string Number(double? d) => d is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "none";

    private static string Timeline(IEnumerable<ResultPoint> points) =>
        string.Join(" ", points.Select(p => $"{p.ElapsedMs}:{Bool(p.Valid)}:{Number(p.RawScore)}:{Number(p.NormalizedScore)}"));

    private static string Timeline(IEnumerable<BoundScorePoint> points) =>
        string.Join(" ", points.Select(p => $"{p.ElapsedMs}:{Bool(p.Valid)}:{(p.HasRawScore ? Number(p.RawScore) : "none")}:{(p.HasNormalizedScore ? Number(p.NormalizedScore) : "none")}"));
}
