using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>The main job of scripts/run.sh: one campaign, progress while it runs, the results table, a replay hint.</summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var task = new Option<string[]>("--task")
        {
            Description = "task_id[:variant]; repeatable", AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["ai_rd_triton_cumsum:cpu"],
        };
        var agents = new Option<string>("--agents") { Description = "comma-separated agents", DefaultValueFactory = _ => "noop,reference" };
        var demo = new Command("demo", "run a demo campaign and print its results") { task, agents, CampaignCommands.K, CampaignCommands.Budget, CampaignCommands.Name };
        demo.SetAction(async (r, ct) =>
        {
            var request = CampaignCommands.Request(r, r.GetValue(task)!,
                r.GetValue(agents)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => new AgentSpec { Name = a }));
            using var client = CliApp.Client(r);
            if (string.IsNullOrEmpty(request.Name)) request.Name = "demo";
            var c = await client.Campaigns.CreateCampaignAsync(request, cancellationToken: ct);
            Console.WriteLine($"campaign {c.CampaignId}: {c.AttemptsTotal} attempts ({string.Join(", ", c.Tasks.Select(t => $"{t.TaskId}:{t.Variant}"))} x " +
                              $"{string.Join(", ", c.Agents.Select(a => a.Name))} x k={c.AttemptsPerPair}, budget {c.TimeBudget.ToTimeSpan()} each)");
            var attempts = await Progress.WatchAsync(client, c.CampaignId, Console.Out, ct);
            if (c.Tasks.Count > 1)
            {
                Console.WriteLine();
                Output.Summary(Console.Out, attempts);
            }
            var sample = attempts.FirstOrDefault(a => a.Agent.Name == "reference") ?? attempts[0];
            Console.WriteLine();
            Console.WriteLine("Replay one attempt's action log:");
            var cli = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(AppContext.BaseDirectory, "rebench.dll"));
            Console.WriteLine($"  dotnet {cli} attempts events {sample.AttemptId}");
            return attempts.All(a => a.Status == AttemptStatus.Completed) ? 0 : 1;
        });
        return demo;
    }
}
