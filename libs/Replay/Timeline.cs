namespace ReBench.Replay;

/// <summary>Timeline categories the replay view filters on.</summary>
public static class TimelineKind
{
    public const string Model = "model";
    public const string Action = "action";
    public const string Score = "score";
    public const string Pause = "pause";
    public const string Lifecycle = "lifecycle";
    public static readonly string[] All = [Model, Action, Score, Pause, Lifecycle];

    public static string Of(string type) => type switch
    {
        "model_call_completed" => Model,
        // A human's terminal (services/orchestrator/Terminal) is their actions: what was typed and what it showed.
        "action_requested" or "action_completed" or "terminal_input_recorded" or "terminal_output_recorded" => Action,
        "score_requested" or "intermediate_score_recorded" or "final_score_recorded" => Score,
        "attempt_paused" or "attempt_resumed" => Pause,
        _ => Lifecycle,
    };
}

/// <param name="Summary">One line for a table.</param>
/// <param name="Details">Everything worth showing (full outputs, tokens, cost), for JSON output.</param>
public sealed record TimelineEntry(long Version, DateTimeOffset? At, string Kind, string Type, string Summary, IReadOnlyDictionary<string, object?> Details);

public static class Timeline
{
    public static IEnumerable<TimelineEntry> Build(IEnumerable<ReplayEvent> events, IReadOnlyCollection<string>? kinds = null) =>
        events.Select(Entry).Where(t => kinds is null || kinds.Count == 0 || kinds.Contains(t.Kind));

    public static TimelineEntry Entry(ReplayEvent e)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        string summary;
        switch (e.Type)
        {
            case "model_call_completed":
                Put(d, e, "StepId", "Provider", "Model");
                d["InputTokens"] = e.Long("InputTokens"); d["OutputTokens"] = e.Long("OutputTokens");
                d["ReasoningTokens"] = e.Long("ReasoningTokens"); d["CostUsd"] = e.Double("CostUsd"); d["LatencyMs"] = e.Long("LatencyMs");
                summary = $"{e.Text("Provider")}/{e.Text("Model")} in={e.Long("InputTokens")} out={e.Long("OutputTokens")} cost=${e.Double("CostUsd") ?? 0:0.0000}";
                break;
            case "action_requested":
                Put(d, e, "StepId", "Kind", "Command", "Path", "ContentSha256");
                d["ContentSize"] = e.Long("ContentSize");
                summary = e.Text("Kind") == "write_file"
                    ? $"[{e.Text("StepId")}] write {e.Text("Path")} ({e.Long("ContentSize")} B, sha256 {Short(e.Text("ContentSha256"))})"
                    : $"[{e.Text("StepId")}] {e.Text("Kind")}: {OneLine(e.Text("Command"), 100)}";
                break;
            case "action_completed":
                Put(d, e, "StepId", "Stdout", "Stderr", "Error");
                d["ExitCode"] = e.Long("ExitCode"); d["TimedOut"] = e.Bool("TimedOut"); d["DurationMs"] = e.Long("DurationMs");
                d["OutputElidedBytes"] = e.Long("OutputElidedBytes");
                summary = $"[{e.Text("StepId")}] exit {e.Long("ExitCode")}{(e.Bool("TimedOut") ? " (timed out)" : "")} {e.Long("DurationMs")} ms"
                    + (e.Text("Error") is { Length: > 0 } err ? $" error: {OneLine(err, 60)}" : $" out: {OneLine(e.Text("Stdout"), 60)}");
                break;
            case "intermediate_score_recorded":
                Put(d, e, "StepId", "InvalidReason");
                d["Valid"] = e.Bool("Valid"); d["RawScore"] = e.Double("RawScore"); d["NormalizedScore"] = e.Double("NormalizedScore");
                summary = e.Bool("Valid") ? $"[{e.Text("StepId")}] score raw={Num(e.Double("RawScore"))} normalized={Num(e.Double("NormalizedScore"))}"
                    : $"[{e.Text("StepId")}] invalid: {OneLine(e.Text("InvalidReason"), 80)}";
                break;
            case "final_score_recorded":
                d["Valid"] = e.Bool("Valid"); d["RawScore"] = e.Double("RawScore"); d["NormalizedScore"] = e.Double("NormalizedScore");
                summary = $"final raw={Num(e.Double("RawScore"))} normalized={Num(e.Double("NormalizedScore"))}{(e.Bool("Valid") ? "" : " (no valid score)")}";
                break;
            case "score_requested":
                Put(d, e, "StepId", "Reason");
                summary = $"[{e.Text("StepId")}] score requested ({e.Text("Reason")})";
                break;
            case "terminal_input_recorded":
            case "terminal_output_recorded":
                Put(d, e, "SessionId", "Text");
                d["Sequence"] = e.Long("Sequence");
                summary = $"[terminal {e.Text("SessionId")} #{e.Long("Sequence")}] {(e.Type == "terminal_input_recorded" ? "typed" : "shown")}: {OneLine(e.Text("Text"), 100)}";
                break;
            case "attempt_paused":
            case "attempt_resumed":
                Put(d, e, "StepId", "Reason", "PausedFor");
                summary = e.Type == "attempt_paused" ? $"paused: {e.Text("Reason")}" : $"resumed after {e.Text("PausedFor")}";
                break;
            default:
                Put(d, e, "Reason");
                summary = e.Text("Reason") is { Length: > 0 } reason ? $"{e.Type}: {OneLine(reason, 80)}" : e.Type;
                break;
        }
        return new TimelineEntry(e.Version, e.At, TimelineKind.Of(e.Type), e.Type, summary, d);
    }

    private static void Put(Dictionary<string, object?> d, ReplayEvent e, params string[] names)
    {
        foreach (var n in names)
        {
            if (e.Text(n) is { } v) d[n] = v;
        }
    }

    private static string Num(double? v) => v is { } x ? x.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "NaN";
    private static string Short(string? digest) => digest is { Length: > 12 } ? digest[..12] : digest ?? "";

    private static string OneLine(string? text, int max)
    {
        var line = (text ?? "").ReplaceLineEndings(" ⏎ ").Trim();
        return line.Length <= max ? line : line[..max] + "…";
    }
}
