namespace ReBench.Scoring.Reports;

/// <summary>
/// Human baselines at budgets shorter than the human worked (the RE-Bench paper compares agents at 30 min and 2 h
/// with humans cut off at those times). A human row with score-over-time points counts, at a per-attempt budget B
/// below its own, as the best normalized score it had reached within B hours of working time; a row without points
/// before its end (nothing known about the way there) counts only at its own budget, as before.
/// </summary>
public static class HumanBudgets
{
    /// <summary>
    /// <paramref name="results"/> plus, for each completed human row with points, one derived row at each budget of
    /// <paramref name="budgets"/> below the row's own. The derived rows keep the attempt's ids and task.
    /// </summary>
    public static List<AttemptResult> WithShorterBudgets(IEnumerable<AttemptResult> results, IEnumerable<double> budgets)
    {
        var all = results.ToList();
        var shorter = budgets.Where(b => b > 0 && double.IsFinite(b)).Distinct().Order().ToList();
        var derived = all.Where(HasPoints)
            .SelectMany(h => shorter.Where(b => b < h.TimeBudgetSeconds).Select(b => AtBudget(h, b)))
            .ToList();
        all.AddRange(derived);
        return all;
    }

    /// <summary>
    /// The rows score@k reads: at <paramref name="budgetSeconds"/> only when given (human rows with points cut to it),
    /// else at every budget found, each human row with points also at every found budget below its own.
    /// </summary>
    public static List<AttemptResult> ForScoreAtK(IEnumerable<AttemptResult> results, double? budgetSeconds)
    {
        var list = results.ToList();
        IEnumerable<double> budgets = budgetSeconds is { } b
            ? [b]
            : list.Where(r => r.Status == AttemptResult.Completed).Select(r => r.TimeBudgetSeconds);
        var expanded = WithShorterBudgets(list, budgets);
        return budgetSeconds is { } only ? expanded.Where(r => r.TimeBudgetSeconds == only).ToList() : expanded;
    }

    /// <summary>A completed human row whose timeline says something about the time before its end.</summary>
    public static bool HasPoints(AttemptResult r) =>
        r.Agent == AttemptResult.HumanAgent && r.Status == AttemptResult.Completed
        && r.Timeline.Any(p => p.ElapsedMs < r.WorkingSeconds * 1000);

    /// <summary>
    /// The human row as if its budget had been <paramref name="budgetSeconds"/>: the full run when it ended within
    /// the budget, else the best valid point reached by then (none: no valid score, which reports read as 0).
    /// </summary>
    public static AttemptResult AtBudget(AttemptResult human, double budgetSeconds)
    {
        var limitMs = budgetSeconds * 1000;
        var within = human.Timeline.Where(p => p.ElapsedMs <= limitMs).ToList();
        var finished = human.WorkingSeconds <= budgetSeconds;
        var best = within.Where(p => p.Valid && p.NormalizedScore is { } n && double.IsFinite(n))
            .OrderByDescending(p => p.NormalizedScore).ThenBy(p => p.ElapsedMs).FirstOrDefault();
        var cut = human.Copy();
        cut.RawScore = finished ? human.RawScore : best?.RawScore;
        cut.NormalizedScore = finished ? human.NormalizedScore : best?.NormalizedScore;
        cut.Valid = finished ? human.Valid : best is not null;
        cut.TimeBudgetSeconds = budgetSeconds;
        cut.WorkingSeconds = Math.Min(human.WorkingSeconds, budgetSeconds);
        cut.Timeline = within;
        cut.Source = $"{human.Source} (cut at {budgetSeconds / 3600:0.###} h)";
        return cut;
    }
}
