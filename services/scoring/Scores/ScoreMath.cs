namespace ReBench.Scoring.Scores;

public enum AggregationRule { Min, Max, Last }

public enum ScoreDirection { Lower, Higher }

/// <summary>The attempt's final score: NaN raw and 0 normalized when no run was valid (rebench-spec 6.3).</summary>
public readonly record struct FinalResult(bool Valid, double Raw, double Normalized);

/// <summary>Normalization and aggregation from rebench-spec 1.1 and 3.1; pure, so the rules are tested on their own.</summary>
public static class ScoreMath
{
    /// <summary>
    /// (y - start) / (reference - start), clipped below at 0 and not above. The same formula serves lower-is-better
    /// tasks, where reference &lt; start. A non-finite raw score is no score, so it stays NaN.
    /// </summary>
    public static double Normalize(double raw, double start, double reference)
    {
        if (!double.IsFinite(raw)) return double.NaN;
        return Math.Max(0, (raw - start) / (reference - start));
    }

    /// <summary>The rule applied to the finite scores only; NaN when there are none.</summary>
    public static double Aggregate(IEnumerable<double> rawScores, AggregationRule rule)
    {
        var valid = rawScores.Where(double.IsFinite).ToList();
        if (valid.Count == 0) return double.NaN;
        return rule switch
        {
            AggregationRule.Min => valid.Min(),
            AggregationRule.Max => valid.Max(),
            AggregationRule.Last => valid[^1],
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown aggregation rule"),
        };
    }

    public static FinalResult Final(IEnumerable<double> rawScores, AggregationRule rule, double start, double reference)
    {
        var raw = Aggregate(rawScores, rule);
        return double.IsNaN(raw) ? new FinalResult(false, double.NaN, 0) : new FinalResult(true, raw, Normalize(raw, start, reference));
    }
}
