using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench reexecute &lt;attempt&gt;`: starts a re-execution (agent replay, fresh environment, same bundle and budget);
/// with --wait shows its progress, then compares it with the original action by action. Exit codes: 0 reproduced
/// (or started, without --wait), 1 not reproduced, 2 bad input (bad option), 3 refused (running attempt, changed task), 4 unknown attempt.
/// </summary>
internal static class ReexecuteCommand
{
    public const int Reproduced = ExitCodes.Ok, NotReproduced = ExitCodes.CheckFailed, BadInput = ExitCodes.BadInput;

    public static Command Build()
    {
        var attempt = new Argument<string>("attempt-id") { Description = "an ended attempt" };
        var wait = new Option<bool>("--wait") { Description = "wait for the re-execution to end, then compare it with the original" };
        var tolerance = new Option<double?>("--tolerance")
        {
            Description = $"final normalized score tolerance (default: the task's scoring.tolerance, else {ReexecuteComparison.DefaultTolerance})",
        };
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var command = new Command("reexecute", "re-run an ended attempt's recorded actions in a fresh environment and check that it reproduces")
        {
            attempt, wait, tolerance, format,
        };
        command.SetAction((r, ct) => RunAsync(r, r.GetValue(attempt)!, r.GetValue(wait), r.GetValue(tolerance), r.GetValue(format)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult r, string attemptId, bool wait, double? tolerance, string format, CancellationToken ct)
    {
        if (format is not ("table" or "json")) return Bad($"--format '{format}': use table or json");
        if (tolerance is { } t && (!double.IsFinite(t) || t < 0)) return Bad($"--tolerance {t}: must be a finite number, 0 or more");
        var json = format == "json";
        // Progress goes to stderr with --format json, so that stdout is one JSON document.
        var log = json ? Console.Error : Console.Out;
        using var client = CliApp.Client(r);
        // Unknown (4), running (3: refused) or malformed (2) go through the central exit-code mapping.
        var started = await client.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = attemptId }, cancellationToken: ct);
        await log.WriteLineAsync($"re-execution of attempt {started.ReexecutionOf}: attempt {started.AttemptId} (campaign {started.CampaignId}), " +
                      $"agent replay, task {started.Task.TaskId}:{started.Task.Variant}");
        if (!wait)
        {
            if (json) Console.WriteLine(JsonSerializer.Serialize(new { attempt = started.AttemptId, campaign = started.CampaignId, reexecution_of = started.ReexecutionOf }));
            return Reproduced;
        }

        var ended = await WaitAsync(client, started.AttemptId, log, ct);
        var original = RecordedAttempt.FromEvents(await EventsAsync(client, started.ReexecutionOf, ct));
        var rerun = RecordedAttempt.FromEvents(await EventsAsync(client, started.AttemptId, ct));
        var report = ReexecuteComparison.Compare(original, rerun, tolerance ?? await TaskToleranceAsync(client, started.Task, log, ct));
        if (ended.Status != AttemptStatus.Completed)
            report = report with { Reproduced = false, Problems = [.. report.Problems, $"the re-execution {Output.Status(ended.Status)}: {ended.FailureReason}"] };

        if (json) Console.WriteLine(JsonSerializer.Serialize(new { original = started.ReexecutionOf, reexecution = started.AttemptId, report },
            new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        else Print(report);
        return report.Reproduced ? Reproduced : NotReproduced;
    }

    private static async Task<Attempt> WaitAsync(PlatformClient client, string attemptId, TextWriter log, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var last = "";
        while (true)
        {
            var a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId }, cancellationToken: ct);
            var line = $"{Output.Status(a.Status)}{(a.QueuedReason.Length > 0 ? $" (queued: {a.QueuedReason})" : "")} | {a.ActionCount} actions, {a.ScoreCount} scores";
            if (line != last)
            {
                await log.WriteLineAsync($"[{(DateTimeOffset.UtcNow - started).TotalSeconds,6:0.0}s] {line}");
                last = line;
            }
            if (a.Status is AttemptStatus.Completed or AttemptStatus.Failed or AttemptStatus.Cancelled) return a;
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>The task's declared tolerance (manifest scoring.tolerance), else the default.</summary>
    private static async Task<double> TaskToleranceAsync(PlatformClient client, TaskRef task, TextWriter log, CancellationToken ct)
    {
        try
        {
            var t = await client.Scoring.GetTaskAsync(new Scoring.V1.GetTaskRequest { TaskId = task.TaskId, Variant = task.Variant }, cancellationToken: ct);
            if (t.ScoreTolerance > 0) return t.ScoreTolerance;
        }
        catch (RpcException e)
        {
            await log.WriteLineAsync($"warning: could not read task {task.TaskId}:{task.Variant} ({e.Status.Detail}); using the default tolerance");
        }
        return ReexecuteComparison.DefaultTolerance;
    }

    private static async Task<List<(string, string)>> EventsAsync(PlatformClient client, string attemptId, CancellationToken ct)
    {
        using var call = client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId }, cancellationToken: ct);
        var events = new List<(string, string)>();
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct)) events.Add((e.EventType, e.DataJson));
        return events;
    }

    private static void Print(ReexecutionReport report)
    {
        static string Exit(int? c) => c?.ToString(CultureInfo.InvariantCulture) ?? "-";
        static string Cut(string s) => (s.Length > 48 ? s[..47] + "…" : s).ReplaceLineEndings(" ");
        Console.WriteLine();
        Output.Table(Console.Out, ["#", "step", "kind", "what", "exit orig", "exit re-run", "exit", "output"],
            report.Actions.Select(a => (IReadOnlyList<string>)
            [
                a.Index.ToString(CultureInfo.InvariantCulture), a.StepId, a.Kind, Cut(a.What), Exit(a.OriginalExit),
                a.Rerun ? Exit(a.RerunExit) : "not re-run", a.ExitMatches ? "same" : "DIFFERS",
                a.OutputMatches ? "same" : a.OutputDiff,
            ]));
        Console.WriteLine();
        Console.WriteLine($"final normalized score: {Score(report.OriginalFinalValid, report.OriginalFinal)} originally, " +
                          $"{Score(report.RerunFinalValid, report.RerunFinal)} re-run (tolerance {report.Tolerance.ToString("0.###", CultureInfo.InvariantCulture)})");
        foreach (var p in report.Problems) Console.WriteLine($"  - {p}");
        Console.WriteLine(report.Reproduced ? "REPRODUCED" : "NOT REPRODUCED");
    }

    private static string Score(bool valid, double? v) => valid && v is { } x ? Output.Score(x) : "invalid";

    private static int Bad(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }
}
