using System.Text.Json.Serialization;

namespace ReBench.Scoring.Reports;

/// <summary>
/// A correction an auditor's admin recorded for an attempt (from the orchestrator's AttemptCorrected), kept beside
/// the attempt's result, never merged into it: the stored result stays as the platform measured it, and a report
/// applies the corrections when it reads (unless asked not to), listing each one it applied.
/// </summary>
public sealed class ResultCorrection
{
    /// <summary>The orchestrator's stored event id: recording is idempotent on it.</summary>
    public Guid Id { get; set; }
    public Guid AttemptId { get; set; }
    /// <summary>1-based position in the attempt's corrections stream: the order they apply in.</summary>
    public long Number { get; set; }
    public string Kind { get; set; } = "";
    public string Reason { get; set; } = "";
    public string Detail { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Role { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>What a report did with one correction.</summary>
public sealed record AppliedCorrection(ResultCorrection Correction, string Effect);

/// <summary>
/// The corrected selection: the results a report computes from, the corrections that changed them, and the
/// results as measured (to tell which of those corrections touched what the report actually reads).
/// </summary>
public sealed record CorrectedResults(IReadOnlyList<AttemptResult> Results, IReadOnlyList<AppliedCorrection> Applied, IReadOnlyList<AttemptResult> Measured)
{
    /// <summary>The applied corrections of the attempts among <paramref name="read"/> (results as measured).</summary>
    public IEnumerable<AppliedCorrection> Touching(IEnumerable<AttemptResult> read)
    {
        var ids = read.Select(r => r.AttemptId).ToHashSet();
        return Applied.Where(a => ids.Contains(a.Correction.AttemptId));
    }
}

/// <summary>
/// How corrections change what reports read (pure). Kinds with an effect, applied in stream order:
/// <c>exclude_from_reports</c> (the attempt leaves every report), <c>score_invalid</c> (its final score no longer
/// counts: normalized 0 and flagged, as for an attempt that ended without a valid score), <c>reinstate</c> (undoes
/// the earlier ones). Every other kind (<c>note</c>, ...) is a record for the auditor and changes nothing.
/// </summary>
public static class ResultCorrections
{
    public const string Exclude = "exclude_from_reports";
    public const string ScoreInvalid = "score_invalid";
    public const string Reinstate = "reinstate";

    public static bool HasEffect(string kind) => kind is Exclude or ScoreInvalid or Reinstate;

    public static CorrectedResults Apply(IReadOnlyList<AttemptResult> results, IReadOnlyList<ResultCorrection> corrections)
    {
        var byAttempt = corrections.Where(c => HasEffect(c.Kind)).GroupBy(c => c.AttemptId)
            .ToDictionary(g => g.Key, g => g.OrderBy(c => c.Number).ToList());
        var kept = new List<AttemptResult>(results.Count);
        var applied = new List<AppliedCorrection>();
        foreach (var r in results)
        {
            if (!byAttempt.TryGetValue(r.AttemptId, out var list))
            {
                kept.Add(r);
                continue;
            }
            var (excluded, invalid) = (false, false);
            foreach (var c in list)
            {
                (excluded, invalid) = c.Kind switch
                {
                    Exclude => (true, invalid),
                    ScoreInvalid => (excluded, true),
                    _ => (false, false),
                };
            }
            // Only the corrections whose effect still holds after the whole list are reported as applied.
            var effect = excluded ? "excluded" : invalid ? "score_invalid" : null;
            if (effect is null)
            {
                kept.Add(r);
                continue;
            }
            var decisive = list.Last(c => c.Kind == (excluded ? Exclude : ScoreInvalid));
            applied.Add(new AppliedCorrection(decisive, effect));
            if (!excluded) kept.Add(Invalidated(r));
        }
        return new CorrectedResults(kept, applied, results);
    }

    private static AttemptResult Invalidated(AttemptResult r)
    {
        var copy = r.Copy();
        copy.Valid = false;
        // The whole score history goes with it: best-so-far over time must not keep the score found invalid.
        copy.Timeline = r.Timeline.Select(p => p with { Valid = false }).ToList();
        return copy;
    }
}
