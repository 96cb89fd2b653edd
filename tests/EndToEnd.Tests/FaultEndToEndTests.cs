using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;
using ReBench.Testing;
using Xunit.Abstractions;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Faults of a single instance (issue 20). The orchestrator is killed while a step runs and comes back only after the
/// attempt's deadline: nobody was waiting for the step's result, and the log must still pair its request with a result,
/// recorded before <c>budget_exhausted</c>, as the fault-free deadline path does (its control:
/// CampaignEndToEndTests.An_attempt_that_outlives_its_budget_is_ended_by_the_deadline, where the step's own timeout records it).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class FaultEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    [Fact]
    public async Task An_orchestrator_outage_across_the_deadline_records_the_pending_step_result_before_budget_exhausted()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "outage-across-deadline", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(20)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Scripted.Script(
                new { run = "echo first" }, new { run = "sleep 60", timeout = 120 }, new { submit = "" }) } } },
        });
        var attemptId = campaign.AttemptIds.Single();

        var until = DateTime.UtcNow.AddSeconds(90);
        List<AttemptEvent> events;
        while (!(events = await Waits.EventsAsync(client, attemptId)).Any(e => e.EventType == "action_requested" && e.DataJson.Contains("sleep 60")))
        {
            Assert.True(DateTime.UtcNow < until, "the long step never started");
            await System.Threading.Tasks.Task.Delay(100);
        }
        var deadline = events.Single(e => e.EventType == "attempt_started").Field("Deadline").GetDateTimeOffset();
        var sleepStep = events.Single(e => e.EventType == "action_requested" && e.DataJson.Contains("sleep 60")).Field("StepId").GetString();
        // Down until past the deadline: the restarted orchestrator finds the deadline passed and the step still pending.
        var down = deadline - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3);
        await Platform.RestartOrchestratorAsync(down > TimeSpan.FromSeconds(1) ? down : TimeSpan.FromSeconds(1));

        IReadOnlyList<Attempt> attempts;
        try
        {
            attempts = await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            foreach (var s in new[] { "orchestrator", "agents", "sandbox" }) output.WriteLine($"--- {s} ---\n{Platform.LogTail(s)}");
            throw;
        }
        Assert.Equal(AttemptStatus.Completed, attempts.Single().Status);
        events = await Waits.EventsAsync(client, attemptId);
        var types = events.Select(e => e.EventType).ToList();
        var result = events.Single(e => e.EventType == "action_completed" && e.Field("StepId").GetString() == sleepStep);
        Assert.True(events.IndexOf(result) < types.IndexOf("budget_exhausted"), "the step's result comes before budget_exhausted: " + string.Join(", ", types));
        Assert.Equal(124, result.Field("ExitCode").GetInt32());
        Assert.True(result.Field("TimedOut").GetBoolean());
        Assert.StartsWith("interrupted", result.Field("Error").GetString());
        // Every request has its result, once.
        var requested = events.Where(e => e.EventType == "action_requested").Select(e => e.Field("StepId").GetString()).ToList();
        var completed = events.Where(e => e.EventType == "action_completed").Select(e => e.Field("StepId").GetString()).ToList();
        Assert.Equal(requested, completed);
        Assert.Single(events, e => e.EventType == "budget_exhausted");
        var verified = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attemptId });
        Assert.True(verified.Ok, verified.Problem);
        Assert.True(verified.Sealed);
    }
}
