namespace ReBench.Scoring.Reports;

/// <summary>Best-so-far normalized score at each grid time; Task is null for the agent's average over tasks.</summary>
public sealed record TimeSeries(string Agent, string? Task, int Attempts, IReadOnlyList<(double Seconds, double BestSoFar)> Points);

/// <summary>
/// Score over time within attempts (rebench-spec 5.1, paper Figs. 3-4): for each completed attempt the best valid
/// normalized score logged up to elapsed working time t (0 before its first valid score, held after its last),
/// averaged over the agent's attempts on a task, then over its tasks. A step function, not the paper's log-linear
/// interpolation: best-so-far only changes when a score is logged.
/// </summary>
public static class ScoreOverTime
{
    public const int DefaultPoints = 17;

    public static double BestSoFar(IEnumerable<ResultPoint> timeline, double seconds)
    {
        var best = 0.0;
        foreach (var p in timeline)
        {
            if (p.ElapsedMs / 1000.0 > seconds) continue;
            if (p.Valid && p.NormalizedScore is { } n && double.IsFinite(n)) best = Math.Max(best, n);
        }
        return best;
    }

    /// <summary>Evenly spaced times from 0 to <paramref name="endSeconds"/>, <paramref name="points"/> of them (at least 2).</summary>
    public static IReadOnlyList<double> Grid(double endSeconds, int points)
    {
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), points, "a grid needs at least 2 points");
        return Enumerable.Range(0, points).Select(i => endSeconds * i / (points - 1)).ToList();
    }

    /// <summary>
    /// Per agent: one series per task, then the average over tasks (Task = null). The grid ends at the longest
    /// per-attempt budget selected (or the longest working time, for attempts recorded without a budget).
    /// </summary>
    public static IReadOnlyList<TimeSeries> Series(IEnumerable<AttemptResult> results, int points = DefaultPoints)
    {
        var completed = results.Where(r => r.Status == AttemptResult.Completed).ToList();
        if (completed.Count == 0) return [];
        var end = completed.Max(r => Math.Max(r.TimeBudgetSeconds, r.WorkingSeconds));
        var grid = Grid(end > 0 ? end : 1, points);
        var series = new List<TimeSeries>();
        foreach (var agent in completed.GroupBy(r => r.Agent).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var perTask = agent.GroupBy(r => r.TaskKey).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(task => new TimeSeries(agent.Key, task.Key, task.Count(),
                    grid.Select(t => (t, task.Average(a => BestSoFar(a.Timeline, t)))).ToList()))
                .ToList();
            var overall = grid.Select((t, i) => (t, perTask.Average(s => s.Points[i].BestSoFar))).ToList();
            series.Add(new TimeSeries(agent.Key, null, agent.Count(), overall));
            series.AddRange(perTask);
        }
        return series;
    }
}
