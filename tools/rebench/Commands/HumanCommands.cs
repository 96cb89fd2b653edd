using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench human`: a human baseline. Creates a campaign with one attempt of agent `human`, waits until its
/// environment runs, then opens the recorded terminal (HumanTerminal). Subcommands act on an existing attempt:
/// terminal (re-attach), score, score-log, submit, pause, resume.
/// </summary>
internal static class HumanCommands
{
    public static Command Build()
    {
        var task = new Option<string?>("--task") { Description = "task_id[:variant] (required to start an attempt)" };
        var budget = new Option<string>("--budget") { Description = "time budget: 90s, 3m, 8h", DefaultValueFactory = _ => "8h" };
        var name = new Option<string?>("--name") { Description = "campaign name" };
        var human = new Command("human", "run a human baseline: one attempt of agent 'human' with an interactive, recorded terminal. " +
            "In the terminal, at the start of a line: ~. leave, ~s score, ~l score log, ~p pause the clock, ~r resume, ~S submit, ~? help") { task, budget, name };
        human.SetAction(async (r, ct) =>
        {
            if (r.GetValue(task) is not { Length: > 0 } t)
            {
                await Console.Error.WriteLineAsync("rebench human: --task is required to start a human baseline (or use a subcommand: terminal, score, score-log, submit, pause, resume)");
                return ExitCodes.BadInput;
            }
            var request = new CreateCampaignRequest
            {
                Name = r.GetValue(name) ?? "human baseline", AttemptsPerPair = 1, TimeBudget = Parsing.Budget(r.GetValue(budget)!),
                Tasks = { Parsing.Task(t) }, Agents = { new AgentSpec { Name = "human" } },
            };
            using var client = CliApp.Client(r);
            var campaign = await client.Campaigns.CreateCampaignAsync(request, cancellationToken: ct);
            var attempts = await client.Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.CampaignId }, cancellationToken: ct);
            var attemptId = attempts.Attempts.Single().AttemptId;
            await Console.Error.WriteLineAsync($"campaign {campaign.CampaignId}, attempt {attemptId}: waiting for its environment...");
            var attempt = await WaitRunningAsync(client, attemptId, ct);
            if (attempt.Status != AttemptStatus.Running)
            {
                await Console.Error.WriteLineAsync($"attempt {attemptId} is {Output.Status(attempt.Status)}: {attempt.FailureReason}");
                return ExitCodes.Unavailable;
            }
            return await HumanTerminalClient.RunAsync(client, attemptId, Console.Out, ct);
        });

        var attemptArg = new Argument<string>("attempt-id");
        human.Subcommands.Add(Sub("terminal", "open (again) the terminal of a running human attempt", attemptArg, null,
            (client, r, id, ct) => HumanTerminalClient.RunAsync(client, id, Console.Out, ct)));
        human.Subcommands.Add(Sub("score", "score the environment's current state (recorded like an agent's score)", attemptArg, null,
            async (client, r, id, ct) => { Console.WriteLine(HumanText.Score(await client.HumanBaselines.HumanScoreAsync(new HumanStepRequest { AttemptId = id }, cancellationToken: ct))); return 0; }));
        human.Subcommands.Add(Sub("score-log", "the attempt's intermediate scores", attemptArg, null,
            async (client, r, id, ct) => { Console.WriteLine(HumanText.Log(await client.HumanBaselines.HumanScoreLogAsync(new HumanStepRequest { AttemptId = id }, cancellationToken: ct))); return 0; }));
        var text = new Option<string>("--text") { Description = "submission text", DefaultValueFactory = _ => "" };
        human.Subcommands.Add(Sub("submit", "submit: the attempt is scored and ends", attemptArg, text,
            async (client, r, id, ct) => { Console.WriteLine(HumanText.Submit(await client.HumanBaselines.HumanSubmitAsync(new HumanStepRequest { AttemptId = id, Submission = r.GetValue(text)! }, cancellationToken: ct))); return 0; }));
        var reason = new Option<string>("--reason") { Description = "why (recorded)", DefaultValueFactory = _ => "break" };
        human.Subcommands.Add(Sub("pause", "pause the clock (a break: excluded from working time)", attemptArg, reason,
            async (client, r, id, ct) => { Console.WriteLine(HumanText.Clock(await client.HumanBaselines.HumanPauseClockAsync(new HumanStepRequest { AttemptId = id, Reason = r.GetValue(reason)! }, cancellationToken: ct))); return 0; }));
        human.Subcommands.Add(Sub("resume", "resume the clock", attemptArg, null,
            async (client, r, id, ct) => { Console.WriteLine(HumanText.Clock(await client.HumanBaselines.HumanResumeClockAsync(new HumanStepRequest { AttemptId = id }, cancellationToken: ct))); return 0; }));
        return human;
    }

    private static Command Sub(string name, string description, Argument<string> attempt, Option? option,
        Func<PlatformClient, ParseResult, string, CancellationToken, Task<int>> run)
    {
        var command = new Command(name, description) { attempt };
        if (option is not null) command.Options.Add(option);
        command.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            return await run(client, r, r.GetValue(attempt)!, ct);
        });
        return command;
    }

    private static async Task<Attempt> WaitRunningAsync(PlatformClient client, string attemptId, CancellationToken ct)
    {
        while (true)
        {
            var a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId }, cancellationToken: ct);
            if (a.Status != AttemptStatus.Scheduled) return a;
            await Task.Delay(500, ct);
        }
    }
}
