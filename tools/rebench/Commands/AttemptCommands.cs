using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

internal static class AttemptCommands
{
    public static Command Build()
    {
        var attempts = new Command("attempts", "list, show, cancel attempts and print their events");

        var campaign = new Option<string?>("--campaign") { Description = "only this campaign" };
        var task = new Option<string?>("--task") { Description = "only this task: task_id or task_id:variant" };
        var agent = new Option<string?>("--agent") { Description = "only this agent" };
        var status = new Option<string?>("--status") { Description = "scheduled|running|completed|failed|cancelled" };
        var json = new Option<bool>("--json") { Description = "one JSON object per attempt (or event), every field" };
        var limit = Paging.Limit();
        var all = Paging.All();
        var list = new Command("list", "list attempts, newest first") { campaign, task, agent, status, json, limit, all };
        list.SetAction(async (r, ct) =>
        {
            // The tables print tasks as task:variant, so the filter takes that form too; the API filters by task id only.
            var taskFilter = r.GetValue(task) is { Length: > 0 } t ? Parsing.Task(t) : null;
            var request = new ListAttemptsRequest
            {
                CampaignId = r.GetValue(campaign) ?? "", TaskId = taskFilter?.TaskId ?? "", Agent = r.GetValue(agent) ?? "",
                Status = Parsing.Status(r.GetValue(status)),
            };
            var max = Paging.LimitOf(r, limit, all);
            using var client = CliApp.Client(r);
            var (shown, more) = await Paging.AttemptsAsync(client.Attempts, request, max, ct,
                a => taskFilter is null || taskFilter.Variant.Length == 0 || a.Task.Variant == taskFilter.Variant);
            if (r.GetValue(json)) foreach (var a in shown) Console.WriteLine(ProtoJson.Format(a));
            else Output.AttemptTable(Console.Out, shown);
            Paging.SayIfCut(more, shown.Count, "attempts");
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("attempt-id");
        var show = new Command("show", "show one attempt") { id };
        show.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            var a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = r.GetValue(id) }, cancellationToken: ct);
            Console.WriteLine(ProtoJson.Format(a, indented: true));
            return ExitCodes.Ok;
        });

        var from = new Option<long>("--from") { Description = "first stream version to print", DefaultValueFactory = _ => 1 };
        var follow = new Option<bool>("--follow") { Description = "keep streaming live events until the attempt ends" };
        var eventsId = new Argument<string>("attempt-id");
        var eventsJson = new Option<bool>("--json") { Description = "one JSON object per event, its data nested as an object" };
        var events = new Command("events", "print an attempt's events in order: its action log") { eventsId, from, eventsJson, follow };
        events.SetAction(async (r, ct) =>
        {
            var attemptId = r.GetValue(eventsId)!;
            if (r.GetValue(from) < 1) throw CliException.Bad($"--from {r.GetValue(from)}: event numbers start at 1");
            using var client = CliApp.Client(r);
            using var call = r.GetValue(follow)
                ? client.Attempts.WatchAttempt(new WatchAttemptRequest { AttemptId = attemptId, FromVersion = r.GetValue(from) }, cancellationToken: ct)
                : client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId, FromVersion = r.GetValue(from) }, cancellationToken: ct);
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            {
                Console.WriteLine(r.GetValue(eventsJson) ? ProtoJson.Format(e) : EventText.Describe(e));
            }
            return ExitCodes.Ok;
        });

        var reason = new Option<string?>("--reason") { Description = "why (recorded in the event)" };
        var cancelId = new Argument<string>("attempt-id");
        var cancel = new Command("cancel", "cancel a running or scheduled attempt") { cancelId, reason };
        cancel.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            var a = await client.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = r.GetValue(cancelId), Reason = r.GetValue(reason) ?? "" }, cancellationToken: ct);
            Console.WriteLine($"attempt {a.AttemptId}: {Output.Status(a.Status)}");
            return ExitCodes.Ok;
        });

        attempts.Subcommands.Add(list);
        attempts.Subcommands.Add(show);
        attempts.Subcommands.Add(events);
        attempts.Subcommands.Add(cancel);
        return attempts;
    }
}

public static class EventText
{
    /// <summary>One readable line per event, with the parts of the action log a reader looks for.</summary>
    public static string Describe(AttemptEvent e)
    {
        using var doc = JsonDocument.Parse(e.DataJson);
        var d = doc.RootElement;
        string S(string name) => d.TryGetProperty(name, out var v) || d.TryGetProperty(char.ToLowerInvariant(name[0]) + name[1..], out v) ? v.ToString() : "";
        var at = e.RecordedAt.ToDateTimeOffset().ToString("HH:mm:ss.fff");
        var body = e.EventType switch
        {
            "action_requested" => S("Kind") == "run" ? $"$ {S("Command")}" : $"write {S("Path")} ({S("ContentSize")} bytes)",
            "action_completed" => $"exit {S("ExitCode")}{(S("TimedOut") == "True" || S("TimedOut") == "true" ? " (timed out)" : "")}{(S("OomKilled") is "True" or "true" ? " (killed: out of memory)" : "")} in {S("DurationMs")} ms" +
                                  Indent("stdout", S("Stdout")) + Indent("stderr", S("Stderr")) + (S("Error") is { Length: > 0 } err ? $" error: {err}" : ""),
            "intermediate_score_recorded" => $"score valid={S("Valid")} raw={S("RawScore")} normalized={S("NormalizedScore")} message={S("MessageJson")}",
            "agent_note_recorded" => AgentNoteText.Describe(S("Kind"), S("Json")),
            "terminal_session_opened" => $"terminal {S("SessionId")} opened by {S("Principal")} ({S("Cols")}x{S("Rows")})",
            "terminal_input_recorded" => $"terminal {S("SessionId")} typed:" + Indent("", S("Text")),
            "terminal_output_recorded" => $"terminal {S("SessionId")} shown:" + Indent("", S("Text")),
            "terminal_session_closed" => $"terminal {S("SessionId")} closed (exit {S("ExitCode")}, {S("Reason")})",
            "final_score_recorded" => $"FINAL valid={S("Valid")} raw={S("RawScore")} normalized={S("NormalizedScore")} ({S("Aggregation")} of {S("ValidScoreCount")} valid)",
            _ => e.DataJson,
        };
        return $"#{e.Version,-4} {at} {e.EventType,-28} {body}";
    }

    private static string Indent(string label, string text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var lines = text.TrimEnd('\n').Split('\n');
        var shown = lines.Length > 12 ? lines.Take(6).Append($"... ({lines.Length - 12} lines) ...").Concat(lines.TakeLast(6)) : lines;
        return label.Length == 0
            ? "\n      " + string.Join("\n      ", shown)
            : $"\n      {label}: " + string.Join("\n      " + new string(' ', label.Length + 2), shown);
    }
}
