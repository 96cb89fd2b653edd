using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

internal static class Output
{
    public static string Score(double value) =>
        double.IsNaN(value) ? "NaN" : value.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Status(AttemptStatus s) => s.ToString().ToLowerInvariant();

    /// <summary>An enum value as JSON output names it: lower case, no type prefix.</summary>
    public static string Enum<T>(T value) where T : struct, System.Enum => value.ToString().ToLowerInvariant();

    public static string Duration(Attempt a)
    {
        if (a.StartedAt is null) return "-";
        var end = a.EndedAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
        return $"{(end - a.StartedAt.ToDateTimeOffset()).TotalSeconds:0.0}s";
    }

    public static void Table(TextWriter w, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
        w.WriteLine(Line(headers));
        w.WriteLine(string.Join("  ", widths.Select(x => new string('-', x))));
        foreach (var r in all) w.WriteLine(Line(r));
    }

    public static void AttemptTable(TextWriter w, IEnumerable<Attempt> attempts) => Table(w,
        ["attempt", "task", "agent", "status", "raw score", "normalized", "duration", "events"],
        attempts.Select(a => (IReadOnlyList<string>)
        [
            a.AttemptId, $"{a.Task.TaskId}:{a.Task.Variant}", a.Agent.Name, Status(a.Status),
            Score(a.RawScore), Score(a.NormalizedScore) + (a.Status == AttemptStatus.Completed && !a.FinalScoreValid ? " (no valid score)" : ""),
            Duration(a), a.EventCount.ToString(CultureInfo.InvariantCulture),
        ]));

    /// <summary>Mean normalized score per task (rows) and agent (columns): the table RE-Bench results are read from.</summary>
    public static void Summary(TextWriter w, IReadOnlyList<Attempt> attempts)
    {
        var agents = attempts.Select(a => a.Agent.Name).Distinct().Order().ToList();
        var tasks = attempts.Select(a => $"{a.Task.TaskId}:{a.Task.Variant}").Distinct().Order().ToList();
        string Cell(string task, string agent)
        {
            var scores = attempts.Where(a => $"{a.Task.TaskId}:{a.Task.Variant}" == task && a.Agent.Name == agent
                                             && a.Status == AttemptStatus.Completed).Select(a => a.NormalizedScore).ToList();
            return scores.Count == 0 ? "-" : Score(scores.Average());
        }
        w.WriteLine("normalized score (mean over completed attempts; start = 0, reference = 1)");
        Table(w, ["task", .. agents], tasks.Select(t => (IReadOnlyList<string>)[t, .. agents.Select(a => Cell(t, a))]));
    }
}
