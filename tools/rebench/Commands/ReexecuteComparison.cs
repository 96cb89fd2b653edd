namespace ReBench.Cli.Commands;

/// <summary>One agent step of an attempt as its stored events record it (request and result joined by step id).</summary>
public sealed record RecordedStep(string StepId, string Kind, string What)
{
    public int? ExitCode { get; set; }
    public string? Stdout { get; set; }
    public string? Stderr { get; set; }
    public string? Error { get; set; }
    public bool? ScoreValid { get; set; }
    public double? NormalizedScore { get; set; }
}

/// <summary>An attempt's agent steps in order and its final score, rebuilt from its stored events (type, JSON body).</summary>
public sealed record RecordedAttempt(IReadOnlyList<RecordedStep> Steps, bool FinalValid, double? FinalNormalized, bool HasFinal)
{
    public static RecordedAttempt FromEvents(IEnumerable<(string Type, string Json)> events)
    {
        var steps = new List<RecordedStep>();
        var byId = new Dictionary<string, RecordedStep>(StringComparer.Ordinal);
        bool hasFinal = false, finalValid = false;
        double? finalNormalized = null;
        void Add(RecordedStep s) { steps.Add(s); byId[s.StepId] = s; }
        foreach (var (type, json) in events)
        {
            using var doc = JsonDocument.Parse(json);
            var d = doc.RootElement;
            var stepId = Str(d, "StepId") ?? "";
            switch (type)
            {
                case "action_requested":
                    var kind = Str(d, "Kind") ?? "";
                    Add(new RecordedStep(stepId, kind, kind == "run" ? Str(d, "Command") ?? "" : Str(d, "Path") ?? ""));
                    break;
                case "action_completed" when byId.TryGetValue(stepId, out var a):
                    a.ExitCode = Num(d, "ExitCode") is { } x ? (int)x : null;
                    a.Stdout = Str(d, "Stdout") ?? "";
                    a.Stderr = Str(d, "Stderr") ?? "";
                    a.Error = Str(d, "Error");
                    break;
                // "final" is the orchestrator's own last score, not an agent step.
                case "score_requested" when stepId != "final":
                    Add(new RecordedStep(stepId, "score", ""));
                    break;
                case "intermediate_score_recorded" when byId.TryGetValue(stepId, out var s):
                    s.ScoreValid = Bool(d, "Valid");
                    s.NormalizedScore = Num(d, "NormalizedScore");
                    break;
                case "submission_received":
                    Add(new RecordedStep(stepId, "submit", Str(d, "Submission") ?? ""));
                    break;
                case "final_score_recorded":
                    hasFinal = true;
                    finalValid = Bool(d, "Valid") ?? false;
                    finalNormalized = Num(d, "NormalizedScore");
                    break;
            }
        }
        return new RecordedAttempt(steps, finalValid, finalNormalized, hasFinal);
    }

    // The stored JSON's casing is the serializer's choice; match names either way.
    private static JsonElement? Get(JsonElement o, string name)
    {
        foreach (var p in o.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    private static string? Str(JsonElement o, string n) => Get(o, n) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
    private static double? Num(JsonElement o, string n) => Get(o, n) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;
    private static bool? Bool(JsonElement o, string n) => Get(o, n) is { ValueKind: JsonValueKind.True or JsonValueKind.False } v ? v.GetBoolean() : null;
}

/// <summary>How one recorded action of the original fared when re-executed.</summary>
public sealed record ActionComparison(
    int Index, string StepId, string Kind, string What, int? OriginalExit, int? RerunExit,
    bool Rerun, bool ExitMatches, bool OutputMatches, string OutputDiff);

public sealed record ReexecutionReport(
    IReadOnlyList<ActionComparison> Actions, bool OriginalFinalValid, double? OriginalFinal, bool RerunFinalValid, double? RerunFinal,
    double Tolerance, bool ExitCodesMatch, bool ScoreReproduces, bool Reproduced, IReadOnlyList<string> Problems);

/// <summary>
/// Compares an attempt with its re-execution. A re-run step's id is "&lt;attempt&gt;:replay:&lt;original step id&gt;", so
/// steps pair by id, not by position. Reproduced = every original action was re-run with the same exit code (file
/// writes and runs), and the final normalized score is within the tolerance (or both are invalid). Outputs are
/// compared exactly and summarized, but do not decide: timings and random seeds legitimately differ.
/// </summary>
public static class ReexecuteComparison
{
    public const double DefaultTolerance = 0.05;
    private const string ReplayMarker = ":replay:";

    public static ReexecutionReport Compare(RecordedAttempt original, RecordedAttempt rerun, double tolerance)
    {
        var rerunBySource = new Dictionary<string, RecordedStep>(StringComparer.Ordinal);
        foreach (var s in rerun.Steps)
        {
            var at = s.StepId.IndexOf(ReplayMarker, StringComparison.Ordinal);
            if (at >= 0) rerunBySource.TryAdd(s.StepId[(at + ReplayMarker.Length)..], s);
        }

        var problems = new List<string>();
        var actions = new List<ActionComparison>();
        var index = 0;
        foreach (var o in original.Steps)
        {
            index++;
            var r = rerunBySource.GetValueOrDefault(o.StepId);
            if (r is null)
            {
                actions.Add(new ActionComparison(index, o.StepId, o.Kind, o.What, o.ExitCode, null, false, false, false, "not re-run"));
                problems.Add($"action {index} ({o.Kind} {o.StepId}) was not re-run");
                continue;
            }
            var isAction = o.Kind is "run" or "write_file";
            var exitMatches = !isAction || o.ExitCode == r.ExitCode;
            var (outputMatches, diff) = o.Kind switch
            {
                "score" => ScoreDiff(o, r, tolerance),
                "submit" => (o.What == r.What, o.What == r.What ? "" : "submission text differs"),
                _ => OutputDiff(o, r),
            };
            if (!exitMatches) problems.Add($"action {index} ({o.Kind} {o.StepId}): exit code {Code(o.ExitCode)} originally, {Code(r.ExitCode)} re-run");
            actions.Add(new ActionComparison(index, o.StepId, o.Kind, o.What, o.ExitCode, r.ExitCode, true, exitMatches, outputMatches, diff));
        }

        var exitCodesMatch = actions.All(a => a.Rerun && a.ExitMatches);
        bool scoreReproduces;
        if (!original.HasFinal || !rerun.HasFinal)
        {
            scoreReproduces = false;
            problems.Add(original.HasFinal ? "the re-execution has no final score" : "the original has no final score");
        }
        else if (original.FinalValid != rerun.FinalValid)
        {
            scoreReproduces = false;
            problems.Add($"final score valid {original.FinalValid} originally, {rerun.FinalValid} re-run");
        }
        else
        {
            scoreReproduces = !original.FinalValid || Within(original.FinalNormalized, rerun.FinalNormalized, tolerance);
            if (!scoreReproduces)
                problems.Add($"final normalized score {Num(original.FinalNormalized)} originally, {Num(rerun.FinalNormalized)} re-run: " +
                             $"differs by more than the tolerance {Num(tolerance)}");
        }
        return new ReexecutionReport(actions, original.FinalValid, original.FinalNormalized, rerun.FinalValid, rerun.FinalNormalized,
            tolerance, exitCodesMatch, scoreReproduces, exitCodesMatch && scoreReproduces, problems);
    }

    public static bool Within(double? a, double? b, double tolerance) =>
        a is { } x && b is { } y && !double.IsNaN(x) && !double.IsNaN(y) && Math.Abs(x - y) <= tolerance + 1e-12;

    private static (bool, string) ScoreDiff(RecordedStep o, RecordedStep r, double tolerance)
    {
        if (o.ScoreValid != r.ScoreValid) return (false, $"score valid {o.ScoreValid} vs {r.ScoreValid}");
        if (o.ScoreValid != true || o.NormalizedScore == r.NormalizedScore) return (true, "");
        var close = Within(o.NormalizedScore, r.NormalizedScore, tolerance);
        return (false, $"normalized {Num(o.NormalizedScore)} vs {Num(r.NormalizedScore)}" + (close ? " (within tolerance)" : ""));
    }

    /// <summary>Exact comparison of stdout, stderr and error, summarized as "stdout: 2 of 14 lines differ (first: line 3)".</summary>
    public static (bool Matches, string Summary) OutputDiff(RecordedStep o, RecordedStep r)
    {
        var parts = new List<string>();
        Diff("stdout", o.Stdout, r.Stdout, parts);
        Diff("stderr", o.Stderr, r.Stderr, parts);
        if ((o.Error ?? "") != (r.Error ?? "")) parts.Add("error differs");
        return (parts.Count == 0, string.Join("; ", parts));
    }

    private static void Diff(string name, string? a, string? b, List<string> parts)
    {
        a ??= "";
        b ??= "";
        if (a == b) return;
        var la = a.Split('\n');
        var lb = b.Split('\n');
        var n = Math.Max(la.Length, lb.Length);
        var differing = 0;
        var first = -1;
        for (var i = 0; i < n; i++)
        {
            if (i < la.Length && i < lb.Length && la[i] == lb[i]) continue;
            differing++;
            if (first < 0) first = i + 1;
        }
        var lines = la.Length == lb.Length ? $"{n} lines" : $"{la.Length} vs {lb.Length} lines";
        parts.Add($"{name}: {differing} of {lines} differ (first: line {first})");
    }

    private static string Code(int? c) => c?.ToString(CultureInfo.InvariantCulture) ?? "none";
    private static string Num(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "none";
}
