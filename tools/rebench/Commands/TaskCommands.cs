using ReBench.Scoring.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench tasks list|show`: the task catalog (Scoring ListTasks/GetTask, the two scoring methods the gateway routes
/// publicly). There is no `agents list`: the agents service's ListAgents is not routed through the gateway.
/// </summary>
internal static class TaskCommands
{
    public static Command Build()
    {
        var tasks = new Command("tasks", "the task catalog: tasks and their variants");

        var listJson = new Option<bool>("--json") { Description = "one JSON object per task variant, every field" };
        var list = new Command("list", "list every task variant (task:variant, the form --task takes)") { listJson };
        list.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            var res = await client.Scoring.ListTasksAsync(new ListTasksRequest(), cancellationToken: ct);
            if (r.GetValue(listJson)) foreach (var t in res.Tasks) Console.WriteLine(ProtoJson.Format(t));
            else Output.Table(Console.Out, ["task", "title", "version", "aggregation", "better", "start", "reference", "resources"],
                res.Tasks.Select(t => (IReadOnlyList<string>)
                [
                    Key(t), t.Title, t.Version, Output.Enum(t.Aggregation), t.LowerIsBetter ? "lower" : "higher",
                    Num(t.StartScore), Num(t.ReferenceScore), Resources(t),
                ]));
            // A bundle that does not load is not a task, but an operator wants to know it is there.
            foreach (var bad in res.InvalidBundles) await Console.Error.WriteLineAsync($"warning: bundle {bad.Path} is invalid: {ExitCodes.OneLine(bad.Message)}");
            return ExitCodes.Ok;
        });

        var spec = new Argument<string>("task") { Description = "task_id or task_id:variant" };
        var showJson = new Option<bool>("--json") { Description = "the task descriptor as JSON, every field" };
        var show = new Command("show", "one task variant: scoring, resources, digests and instructions (exit 4 if unknown)") { spec, showJson };
        show.SetAction(async (r, ct) =>
        {
            var task = Parsing.Task(r.GetValue(spec)!);
            using var client = CliApp.Client(r);
            var t = await client.Scoring.GetTaskAsync(new GetTaskRequest { TaskId = task.TaskId, Variant = task.Variant }, cancellationToken: ct);
            if (r.GetValue(showJson))
            {
                Console.WriteLine(ProtoJson.Format(t, indented: true));
                return ExitCodes.Ok;
            }
            var w = Console.Out;
            await w.WriteLineAsync($"{Key(t)}: {t.Title} (version {t.Version})");
            await w.WriteLineAsync($"  variants:    {string.Join(", ", t.Variants)}");
            await w.WriteLineAsync($"  scoring:     {Output.Enum(t.Aggregation)} of valid scores, {(t.LowerIsBetter ? "lower" : "higher")} is better; " +
                        $"start {Num(t.StartScore)}, reference {Num(t.ReferenceScore)}; score visible to the agent: {(t.ScoreVisible ? "yes" : "no")}");
            await w.WriteLineAsync($"  resources:   {Resources(t)}; network {(t.Network ? "yes" : "no")}; scorer timeout {t.ScorerTimeoutSeconds} s");
            await w.WriteLineAsync($"  digests:     bundle {t.BundleDigest}, scorer {t.ScorerDigest}");
            await w.WriteLineAsync();
            await w.WriteLineAsync(t.Instructions.TrimEnd());
            return ExitCodes.Ok;
        });

        tasks.Subcommands.Add(list);
        tasks.Subcommands.Add(show);
        return tasks;
    }

    private static string Key(TaskDescriptor t) => $"{t.TaskId}:{t.Variant}";

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Resources(TaskDescriptor t) =>
        $"{t.Cpus} cpu, {t.MemoryMb} MB" + (t.DiskMb > 0 ? $", disk {t.DiskMb} MB" : "") +
        (t.GpuCount > 0 ? $", {t.GpuCount} gpu {t.GpuModel}" : "");
}
