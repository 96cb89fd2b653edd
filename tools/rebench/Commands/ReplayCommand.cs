using ReBench.Audit;
using ReBench.Orchestrator.V1;
using ReBench.Replay;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench replay`: an attempt's timeline (model calls, actions with outputs, scores, pauses) and, with --at N, its
/// state as of event N rebuilt from the events (<see cref="ReplayFold"/>). Reads the platform or an export bundle.
/// Exit 0, 2 for bad input (unreadable bundle, --at outside 1..event count), 4 unknown attempt.
/// </summary>
internal static class ReplayCommand
{
    public const int Ok = ExitCodes.Ok, BadInput = ExitCodes.BadInput;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Command Build()
    {
        var attempt = new Argument<string?>("attempt-id") { Description = "the attempt (omit with --from-export)", Arity = ArgumentArity.ZeroOrOne };
        var kinds = new Option<string[]>("--kind") { Description = $"only these kinds: {string.Join("|", TimelineKind.All)} (repeatable)", AllowMultipleArgumentsPerToken = true };
        // A string, parsed here: System.CommandLine's own message for a bad long? names the CLR type (System.Nullable`1[...]).
        var at = new Option<string?>("--at") { Description = "show the attempt's state as of this event number (1-based)" };
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var fromExport = new Option<FileInfo?>("--from-export") { Description = "read an export bundle (rebench export) instead of the platform" };
        var replay = new Command("replay", "an attempt's timeline, or with --at N its state as of event N; exit 2 on bad input")
            { attempt, kinds, at, format, fromExport };
        replay.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("table" or "json")) return Fail($"--format must be table or json, got '{fmt}'");
            var wanted = r.GetValue(kinds) ?? [];
            if (wanted.FirstOrDefault(k => !TimelineKind.All.Contains(k)) is { } bad)
                return Fail($"--kind '{bad}' is not one of {string.Join(", ", TimelineKind.All)}");

            long? atEvent = null;
            if (r.GetValue(at) is { } atText)
            {
                if (!long.TryParse(atText.Trim(), System.Globalization.NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
                    return Fail($"--at '{Parsing.Quote(atText)}': an event number (a whole number from 1)");
                atEvent = parsed;
            }
            List<ReplayEvent> events;
            try
            {
                events = r.GetValue(fromExport) is { } file ? FromBundle(file.FullName)
                    : r.GetValue(attempt) is { Length: > 0 } id ? await FromPlatformAsync(r, id, ct)
                    : throw new ArgumentException("give an attempt id or --from-export FILE");
            }
            catch (Exception e) when (e is BundleException or ArgumentException or JsonException)
            {
                return Fail(e.Message);
            }

            if (atEvent is { } n)
            {
                if (n < 1 || n > events.Count) return Fail($"--at {n} is outside the attempt's events 1..{events.Count}");
                PrintState(ReplayFold.Fold(events, n), fmt);
                return Ok;
            }
            PrintTimeline(Timeline.Build(events, wanted).ToList(), fmt);
            return Ok;
        });
        return replay;
    }

    /// <summary>The bundle's events, without the seal (it is not part of the attempt's story).</summary>
    public static List<ReplayEvent> FromBundle(string path) =>
        Bundle.Read(path).Events.Select(e => ReplayEvent.Parse(e.Version, e.Type, e.DataJson)).ToList();

    private static async Task<List<ReplayEvent>> FromPlatformAsync(ParseResult r, string id, CancellationToken ct)
    {
        using var client = CliApp.Client(r);
        using var call = client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = id }, cancellationToken: ct);
        var events = new List<ReplayEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            events.Add(ReplayEvent.Parse(e.Version, e.EventType, e.DataJson, e.RecordedAt?.ToDateTimeOffset()));
        return events;
    }

    private static void PrintTimeline(IReadOnlyList<TimelineEntry> entries, string format)
    {
        if (format == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(entries.Select(t => new
            {
                version = t.Version, at = t.At, kind = t.Kind, type = t.Type, summary = t.Summary, details = t.Details,
            }), Json));
            return;
        }
        Output.Table(Console.Out, ["#", "at", "kind", "what"], entries.Select(t => (IReadOnlyList<string>)
            [t.Version.ToString(CultureInfo.InvariantCulture), t.At?.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) ?? "", t.Kind, t.Summary]));
    }

    private static void PrintState(ReplayState s, string format)
    {
        if (format == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                at_event = s.Version, attempt_id = s.AttemptId, task = s.TaskId, variant = s.Variant, agent = s.Agent, status = s.Status,
                working_seconds = s.WorkingTime.TotalSeconds, time_budget_seconds = s.TimeBudget.TotalSeconds,
                actions = s.Actions, model_calls = s.ModelCalls, input_tokens = s.InputTokens, output_tokens = s.OutputTokens,
                reasoning_tokens = s.ReasoningTokens, cost_usd = s.CostUsd,
                files = s.Files.Values.Select(f => new { path = f.Path, sha256 = f.Sha256, size = f.Size, written_at_event = f.Version }),
                scores = s.Scores.Select(x => new { at_event = x.Version, step = x.StepId, valid = x.Valid, raw = x.RawScore, normalized = x.NormalizedScore, elapsed_ms = x.ElapsedMs, invalid_reason = x.InvalidReason }),
                final = s.FinalValid is null ? null : new { valid = s.FinalValid, raw = s.FinalRawScore, normalized = s.FinalNormalizedScore },
            }, Json));
            return;
        }
        var w = Console.Out;
        w.WriteLine($"attempt {s.AttemptId} as of event {s.Version}: {s.Status}");
        w.WriteLine($"  task {s.TaskId}{(s.Variant.Length > 0 ? ":" + s.Variant : "")}, agent {s.Agent}");
        w.WriteLine($"  working time {s.WorkingTime.TotalSeconds:0.0} s of {s.TimeBudget.TotalSeconds:0} s; {s.Actions} actions");
        w.WriteLine($"  model calls {s.ModelCalls}: {s.InputTokens} input, {s.OutputTokens} output tokens, ${s.CostUsd:0.0000}");
        w.WriteLine($"files written ({s.Files.Count}):");
        Output.Table(w, ["path", "sha256", "size", "event"], s.Files.Values.Select(f => (IReadOnlyList<string>)
            [f.Path, f.Sha256, f.Size.ToString(CultureInfo.InvariantCulture), f.Version.ToString(CultureInfo.InvariantCulture)]));
        w.WriteLine($"score log ({s.Scores.Count}):");
        Output.Table(w, ["event", "step", "valid", "raw", "normalized", "elapsed s"], s.Scores.Select(x => (IReadOnlyList<string>)
            [x.Version.ToString(CultureInfo.InvariantCulture), x.StepId, x.Valid ? "yes" : "no", Num(x.RawScore), Num(x.NormalizedScore),
             (x.ElapsedMs / 1000.0).ToString("0.0", CultureInfo.InvariantCulture)]));
        if (s.FinalValid is not null) w.WriteLine($"final: raw {Num(s.FinalRawScore)}, normalized {Num(s.FinalNormalizedScore)}{(s.FinalValid == true ? "" : " (no valid score)")}");
    }

    private static string Num(double? v) => v?.ToString("0.####", CultureInfo.InvariantCulture) ?? "NaN";

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }
}
