namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The Modular scaffold across an agents-service restart (the run resumes from the attempt's stream, no action runs
/// twice) and against a cost budget (the attempt ends cleanly once the next call could pass it).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentResumeAndBudgetEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Killing_the_agents_service_mid_attempt_resumes_without_running_any_action_twice()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var model = new ToolCallingModel(Platform.LlmPort, n => n switch
        {
            0 => ("bash", new JsonObject { ["command"] = "echo run1 >> appended.txt && echo first" }),
            1 => ("bash", new JsonObject { ["command"] = "echo run2 >> appended.txt && echo second" }),
            2 => null, // held: the agents service is killed while it waits for this answer
            3 => ("bash", new JsonObject { ["command"] = "cat appended.txt" }),
            _ => ("submit", new JsonObject { ["submission"] = "done" }),
        }, onHeld: () => held.TrySetResult());

        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "resume-e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "modular", Settings = { ["provider"] = "scripted" } } },
        });
        await held.Task.WaitAsync(TimeSpan.FromMinutes(3));
        await Platform.RestartAgentsAsync();

        var attempts = await CampaignFinishedAsync(campaign.CampaignId, output, ["agents", "orchestrator"], logLines: 80);
        var attempt = attempts.Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);

        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        Assert.Contains(events, e => e.EventType == "agent_relaunched");
        var requested = events.Where(e => e.EventType == "action_requested").Select(e => e.Field("StepId").GetString()).ToList();
        Assert.Equal(requested.Count, requested.Distinct().Count());
        var commands = events.Where(e => e.EventType == "action_requested").Select(e => e.Field("Command").GetString()).ToList();
        Assert.Single(commands, c => c!.Contains("run1", StringComparison.Ordinal));
        Assert.Single(commands, c => c!.Contains("run2", StringComparison.Ordinal));
        // The file the commands append to holds each line once: no command ran twice.
        var cat = events.Where(e => e.EventType == "action_completed").Select(e => e.Field("Stdout").GetString()).Last(s => s!.Contains("run", StringComparison.Ordinal));
        Assert.Equal("run1\nrun2\n", cat);
        // The resumed run rebuilt the conversation from the recorded calls: its first live request carries both earlier turns.
        var resumed = model.Requests[3];
        Assert.Contains("call_0", resumed, StringComparison.Ordinal);
        Assert.Contains("call_1", resumed, StringComparison.Ordinal);
        Assert.Contains("second", resumed, StringComparison.Ordinal);
        Assert.Single(events, e => e.EventType == "submission_received");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Killing_the_agents_service_while_an_action_runs_does_not_run_it_again()
    {
        const string slow = "echo start >> act.log; sleep 8; echo end >> act.log";
        using var model = new ToolCallingModel(Platform.LlmPort, n => n switch
        {
            0 => ("bash", new JsonObject { ["command"] = slow, ["timeout"] = 60 }),
            1 => ("bash", new JsonObject { ["command"] = "cat act.log" }),
            _ => ("submit", new JsonObject { ["submission"] = "done" }),
        });
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "resume-mid-action-e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "modular", Settings = { ["provider"] = "scripted" } } },
        });
        var attemptId = "";
        var until = DateTime.UtcNow.AddMinutes(3);
        List<AttemptEvent> seen = [];
        while (!seen.Any(e => e.EventType == "action_requested"))
        {
            Assert.True(DateTime.UtcNow < until, "the slow action was never requested");
            await Task.Delay(100);
            if (attemptId == "")
                attemptId = (await client.Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.CampaignId })).Attempts.Single().AttemptId;
            seen = await Waits.EventsAsync(client, attemptId);
        }
        // SIGKILL while the command sleeps: its Act call from the dead service is cut off mid-way.
        await Platform.RestartAgentsAsync();
        var killedMidAction = !(await Waits.EventsAsync(client, attemptId)).Any(e => e.EventType == "action_completed");
        output.WriteLine($"killed mid-action: {killedMidAction}");

        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attemptId);
        Assert.Contains(events, e => e.EventType == "agent_relaunched");
        var step = Assert.Single(events, e => e.EventType == "action_requested" && e.Field("Command").GetString() == slow).Field("StepId").GetString();
        Assert.Single(events, e => e.EventType == "action_completed" && e.Field("StepId").GetString() == step);
        // The command ran once, to its end: the file has one start and one end.
        Assert.Equal("start\nend\n", events.Where(e => e.EventType == "action_completed").Select(e => e.Field("Stdout").GetString()).Last(s => s!.Contains("start", StringComparison.Ordinal)));
        Assert.Single(events, e => e.EventType == "submission_received");
        Assert.True(killedMidAction, "the service was killed only after the action had completed; the mid-action case was not exercised");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_model_that_keeps_calling_ends_cleanly_when_the_cost_budget_would_be_passed()
    {
        const double budget = 0.15;
        using var model = new ToolCallingModel(Platform.LlmPort, n => ("bash", new JsonObject { ["command"] = $"echo step{n}" }));
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "budget-e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "modular", Settings = { ["provider"] = "scripted", ["cost_budget_usd"] = "0.15" } } },
            CostCapUsd = 10,
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);

        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var exhausted = Assert.Single(events, e => e.EventType == "budget_exhausted");
        Assert.Equal("cost", exhausted.Field("Budget").GetString());
        output.WriteLine(exhausted.Field("Detail").GetString());
        Assert.Equal("budget_exhausted", events.Single(e => e.EventType == "attempt_completed").Field("Reason").GetString());
        Assert.Contains(events, e => e.EventType == "final_score_recorded");
        var costs = events.Where(e => e.EventType == "model_call_completed").Select(e => e.Field("CostUsd").GetDouble()).ToList();
        output.WriteLine($"{costs.Count} calls, {costs.Sum()} USD of {budget}");
        Assert.True(costs.Count >= 2, $"only {costs.Count} calls were made");
        Assert.True(costs.Sum() <= budget + costs.Max(), $"spent {costs.Sum()} > budget {budget} + one call");
        // Every call was reserved first and settled by its record.
        var reserved = events.Where(e => e.EventType == "budget_reserved").Select(e => e.Field("StepId").GetString()).ToHashSet();
        Assert.All(events.Where(e => e.EventType == "model_call_completed"), c => Assert.Contains(c.Field("ReservationStepId").GetString(), reserved));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_model_that_keeps_calling_ends_cleanly_when_the_token_budget_would_be_passed()
    {
        const long budget = 20_000;
        using var model = new ToolCallingModel(Platform.LlmPort, n => ("bash", new JsonObject { ["command"] = $"echo tokens{n}" }));
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "token-budget-e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "modular", Settings = { ["provider"] = "scripted", ["token_budget"] = budget.ToString() } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);

        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var exhausted = Assert.Single(events, e => e.EventType == "budget_exhausted");
        Assert.Equal("tokens", exhausted.Field("Budget").GetString());
        output.WriteLine(exhausted.Field("Detail").GetString());
        Assert.Contains(events, e => e.EventType == "final_score_recorded");
        var used = events.Where(e => e.EventType == "model_call_completed")
            .Select(e => e.Field("InputTokens").GetInt64() + e.Field("OutputTokens").GetInt64()).ToList();
        output.WriteLine($"{used.Count} calls, {used.Sum()} tokens of {budget}");
        Assert.True(used.Count >= 2, $"only {used.Count} calls were made");
        Assert.True(used.Sum() <= budget + used.Max(), $"used {used.Sum()} tokens > budget {budget} + one call");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_campaign_cost_cap_ends_every_attempt_cleanly_and_keeps_everything_recorded()
    {
        const double cap = 0.25;
        using var model = new ToolCallingModel(Platform.LlmPort, n => ("bash", new JsonObject { ["command"] = $"echo cap{n}" }));
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "campaign-cap-e2e", AttemptsPerPair = 2, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "modular", Settings = { ["provider"] = "scripted" } } },
            CostCapUsd = cap,
        });
        var attempts = await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4));
        Assert.Equal(2, attempts.Count);

        var all = new List<double>();
        foreach (var attempt in attempts)
        {
            Assert.Equal(AttemptStatus.Completed, attempt.Status);
            var events = await Waits.EventsAsync(client, attempt.AttemptId);
            var exhausted = Assert.Single(events, e => e.EventType == "budget_exhausted");
            Assert.Equal("campaign_cost_cap", exhausted.Field("Budget").GetString());
            output.WriteLine($"{attempt.AttemptId}: {exhausted.Field("Detail").GetString()}");
            Assert.Equal("budget_exhausted", events.Single(e => e.EventType == "attempt_completed").Field("Reason").GetString());
            Assert.Contains(events, e => e.EventType == "final_score_recorded");
            // Nothing after the refusal but the end: no call and no action was granted past the cap.
            var refusedAt = exhausted.Version;
            Assert.DoesNotContain(events, e => e.Version > refusedAt && e.EventType is "model_call_completed" or "budget_reserved" or "action_requested");
            // Every granted call was recorded (settled) or expired: none is left open.
            var reserved = events.Where(e => e.EventType == "budget_reserved").Select(e => e.Field("StepId").GetString()).ToHashSet();
            var settled = events.Where(e => e.EventType == "model_call_completed").Select(e => e.Field("ReservationStepId").GetString()).ToHashSet();
            settled.UnionWith(events.Where(e => e.EventType == "budget_reservation_expired").Select(e => e.Field("StepId").GetString()));
            Assert.Subset(settled, reserved);
            // Each action the model asked for ran to completion and is in the log.
            Assert.Equal(events.Count(e => e.EventType == "action_requested"), events.Count(e => e.EventType == "action_completed"));
            all.AddRange(events.Where(e => e.EventType == "model_call_completed").Select(e => e.Field("CostUsd").GetDouble()));
            var verified = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attempt.AttemptId });
            Assert.True(verified.Ok && verified.Sealed, verified.Problem);
        }
        output.WriteLine($"{all.Count} calls, {all.Sum():0.######} USD against a cap of {cap} USD");
        Assert.True(all.Count >= 4, $"only {all.Count} calls were made");
        Assert.True(all.Sum() <= cap + all.Max(), $"spent {all.Sum()} > cap {cap} + one call");
    }

    /// <summary>
    /// An OpenAI-compatible server on loopback answering request n with a tool call (usage 1500 in / 60 out); a null
    /// script entry holds that request unanswered. Each request is served on its own task.
    /// </summary>
    private sealed class ToolCallingModel(int port, Func<int, (string, JsonObject)?> script, Action? onHeld = null)
        : LoopbackModel(port, concurrent: true)
    {
        private readonly Func<int, (string Tool, JsonObject Args)?> _script = script;
        private readonly Action? _onHeld = onHeld;
        private readonly ConcurrentDictionary<int, string> _requests = new();

        public IReadOnlyDictionary<int, string> Requests => _requests;

        protected override (int Status, JsonObject Body)? Answer(int n, string body, HttpListenerRequest request)
        {
            _requests[n] = body;
            return _script(n) is { } step ? (200, ToolCall(n, step.Tool, step.Args)) : null;
        }

        protected override void OnHeld() => _onHeld?.Invoke();
    }
}
