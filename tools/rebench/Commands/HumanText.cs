using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>One-line texts of the human-baseline results, shared by the subcommands and the terminal's escapes.</summary>
internal static class HumanText
{
    public static string Score(HumanScoreResult s) => !s.Valid
        ? $"score: invalid {s.MessageJson} (working time {Minutes(s.ElapsedMs)})"
        : s.ScoreVisible
            ? $"score: raw {s.RawScore:G6}, normalized {s.NormalizedScore:F3} (working time {Minutes(s.ElapsedMs)}) {s.MessageJson}"
            : $"score: recorded, hidden by the task (working time {Minutes(s.ElapsedMs)})";

    public static string Log(HumanScoreLogResponse log) => log.Entries.Count == 0
        ? "score log: empty"
        : "score log:\n" + string.Join("\n", log.Entries.Select((e, i) => $"  {i + 1}. {Score(e)}"));

    public static string Submit(HumanSubmitResult r) =>
        $"submitted: final raw score {r.RawScore:G6}, normalized {r.NormalizedScore:F3}{(r.FinalScoreValid ? "" : " (no valid score)")}";

    public static string Clock(HumanClockState c) =>
        $"clock {(c.Paused ? "paused" : "running")}: working {Minutes(c.WorkingMs)}, remaining {Minutes(c.RemainingMs)}, paused in total {Minutes(c.PausedTotalMs)}";

    private static string Minutes(long ms) => TimeSpan.FromMilliseconds(ms).ToString(@"hh\:mm\:ss");
}
