namespace ReBench.EndToEnd.Tests;

[Collection(PlatformCollection.Name)]
public sealed class CampaignEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string Task = "ai_rd_triton_cumsum";
    private const string Variant = "cpu";

    private static string Script(params object[] steps) => Scripted.Script(steps);

    [Fact]
    public async Task Campaign_through_gateway_records_the_complete_action_log_in_order()
    {
        var client = Platform.Orchestrator();
        var script = Script(
            new { run = "echo hello-from-agent" },
            new { run = "echo to-stderr >&2; exit 3" },
            new { write = "notes/readme.txt", content = "written by the script" },
            new { run = "cat notes/readme.txt" },
            new { score = true },
            new { submit = "done" });
        var request = new CreateCampaignRequest
        {
            Name = "e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = Task, Variant = Variant } },
            Agents = { new AgentSpec { Name = "noop" }, new AgentSpec { Name = "reference" }, new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        };
        var campaign = await client.Campaigns.CreateCampaignAsync(request);
        Assert.Equal(3, campaign.AttemptsTotal);

        var attempts = await WaitAsync(campaign.CampaignId);
        Assert.All(attempts, a => Assert.Equal(AttemptStatus.Completed, a.Status));
        var noop = attempts.Single(a => a.Agent.Name == "noop");
        var reference = attempts.Single(a => a.Agent.Name == "reference");
        output.WriteLine($"noop raw={noop.RawScore} norm={noop.NormalizedScore}; reference raw={reference.RawScore} norm={reference.NormalizedScore}");
        Assert.True(noop.FinalScoreValid && reference.FinalScoreValid);
        Assert.InRange(noop.NormalizedScore, 0, 0.35);
        Assert.InRange(reference.NormalizedScore, 0.6, 1.6);

        var scripted = attempts.Single(a => a.Agent.Name == "scripted");
        var events = await Waits.EventsAsync(client, scripted.AttemptId);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Version));
        Assert.Equal(scripted.EventCount, events.Count);
        var types = events.Select(e => e.EventType).ToList();
        Assert.Equal(
        [
            "attempt_scheduled", "attempt_started", "agent_launched",
            "action_requested", "action_completed", "action_requested", "action_completed",
            "action_requested", "action_completed", "action_requested", "action_completed",
            "score_requested", "intermediate_score_recorded",
            "submission_received", "score_requested", "intermediate_score_recorded", "final_score_recorded", "attempt_completed",
            "attempt_sealed",
        ], types);
        var verified = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = scripted.AttemptId });
        Assert.True(verified.Ok, verified.Problem);
        Assert.True(verified.Sealed);
        Assert.Equal(events.Count - 1, verified.SealedVersion);

        var requested = events.Where(e => e.EventType == "action_requested").ToList();
        var completed = events.Where(e => e.EventType == "action_completed").ToList();
        Assert.Equal("echo hello-from-agent", requested[0].Field("Command").GetString());
        Assert.Equal("hello-from-agent\n", completed[0].Field("Stdout").GetString());
        Assert.Equal(0, completed[0].Field("ExitCode").GetInt32());
        Assert.Equal(3, completed[1].Field("ExitCode").GetInt32());
        Assert.Equal("to-stderr\n", completed[1].Field("Stderr").GetString());
        Assert.Equal("notes/readme.txt", requested[2].Field("Path").GetString());
        Assert.Equal("written by the script", completed[3].Field("Stdout").GetString());
        for (var i = 0; i < requested.Count; i++)
            Assert.Equal(requested[i].Field("StepId").GetString(), completed[i].Field("StepId").GetString());

        var final = events.Single(e => e.EventType == "final_score_recorded");
        Assert.True(final.Field("Valid").GetBoolean());
        Assert.Equal(scripted.RawScore, final.Field("RawScore").GetDouble(), 9);
    }

    [Fact]
    public async Task Restarting_the_orchestrator_mid_attempt_loses_and_duplicates_nothing()
    {
        var client = Platform.Orchestrator();
        var script = Script(
            new { run = "echo before" },
            new { run = "sleep 4; echo slept" },
            new { run = "echo after" },
            new { submit = "" });
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "restart", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = Task, Variant = Variant } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var attemptId = campaign.AttemptIds.Single();

        // Wait until the slow step is in flight, then kill the orchestrator under it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await Waits.EventsAsync(client, attemptId)).Any(e => e.EventType == "action_requested" && e.DataJson.Contains("sleep 4")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the slow step never started");
            await System.Threading.Tasks.Task.Delay(100);
        }
        await Platform.RestartOrchestratorAsync();

        var attempts = await WaitAsync(campaign.CampaignId);
        var attempt = attempts.Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attemptId);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Version));
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());

        var requested = events.Where(e => e.EventType == "action_requested").Select(e => e.Field("StepId").GetString()).ToList();
        var completed = events.Where(e => e.EventType == "action_completed").Select(e => e.Field("StepId").GetString()).ToList();
        Assert.Equal(3, requested.Count);
        Assert.Equal(requested, requested.Distinct());
        Assert.Equal(requested, completed);
        var outputs = events.Where(e => e.EventType == "action_completed").Select(e => e.Field("Stdout").GetString()).ToList();
        Assert.Equal(["before\n", "slept\n", "after\n"], outputs);
        Assert.Single(events, e => e.EventType == "attempt_completed");
        Assert.Single(events, e => e.EventType == "final_score_recorded");
        // Sealed once, and still verifiable after the restart (the signing key comes from configuration).
        Assert.Single(events, e => e.EventType == "attempt_sealed");
        var verified = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attemptId });
        Assert.True(verified.Ok, verified.Problem);
    }

    [Fact]
    public async Task An_attempt_that_outlives_its_budget_is_ended_by_the_deadline()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "deadline", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(4)),
            Tasks = { new TaskRef { TaskId = Task, Variant = Variant } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Script(new { run = "sleep 60", timeout = 120 }) } } },
        });
        var attempt = (await WaitAsync(campaign.CampaignId)).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        Assert.Contains(events, e => e.EventType == "budget_exhausted");
        Assert.DoesNotContain(events, e => e.EventType == "submission_received");
        var sleep = events.Single(e => e.EventType == "action_completed");
        Assert.True(sleep.Field("TimedOut").GetBoolean(), "the command was cut at the end of the budget");
        var duration = attempt.EndedAt.ToDateTimeOffset() - attempt.StartedAt.ToDateTimeOffset();
        Assert.InRange(duration.TotalSeconds, 3.5, 45);
        // The last intermediate score at the end of the budget, then the aggregate.
        Assert.Equal("final_score_recorded", events[^3].EventType);
        Assert.Equal(["attempt_completed", "attempt_sealed"], events.TakeLast(2).Select(e => e.EventType));
    }

    [Fact]
    public async Task Binary_files_and_nul_bytes_in_output_are_recorded_not_rejected()
    {
        // jsonb cannot hold U+0000: a model checkpoint written by an agent or a NUL printed by a command must not
        // break the attempt (seen with the reference solutions of the torch-based tasks).
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "binary", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = Task, Variant = Variant } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Script(
                new { write = "weights.bin", content = "PK\u0000\u0001binary" },
                new { run = "printf 'x\\0y'; wc -c < weights.bin" },
                new { submit = "" }) } } },
        });
        var attempt = (await WaitAsync(campaign.CampaignId)).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var write = events.First(e => e.EventType == "action_requested");
        Assert.Equal("(binary, 10 bytes)", write.Field("ContentPreview").GetString());
        var run = events.Where(e => e.EventType == "action_completed").ElementAt(1);
        Assert.Equal("x\uFFFDy10\n", run.Field("Stdout").GetString());
    }

    private Task<IReadOnlyList<Attempt>> WaitAsync(string campaignId) =>
        CampaignFinishedAsync(campaignId, output, ["orchestrator", "agents", "scoring", "sandbox"]);
}
