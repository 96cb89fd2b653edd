namespace ReBench.Agents.Tests;

public sealed class ResilienceTests
{
    [Fact]
    public async Task Transient_failures_are_retried_with_the_same_step_id()
    {
        await using var h = await AgentsHarness.StartAsync();
        h.Session.Behavior = (call, _) => call.Index < 2
            ? throw new RpcException(new Status(StatusCode.Unavailable, "orchestrator restarting"))
            : Task.CompletedTask;
        var request = AgentsHarness.Request("noop");

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("finished", "", 2), (run.State, run.Error, run.Steps));
        Assert.Equal(["Score", "Score", "Score", "Submit"], h.Session.Calls.Select(c => c.Method));
        var id = request.AttemptId;
        Assert.Equal([$"{id}:1", $"{id}:1", $"{id}:1", $"{id}:2"], h.Session.Calls.Select(c => c.StepId));
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.Internal)]
    public async Task Other_errors_are_not_retried_and_fail_the_run(StatusCode status)
    {
        await using var h = await AgentsHarness.StartAsync();
        h.Session.Behavior = (_, _) => throw new RpcException(new Status(status, "attempt is not known here"));
        var request = AgentsHarness.Request("noop");

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("failed", $"{status}: attempt is not known here"), (run.State, run.Error));
        // Not retried: the failing step once, then the failure's note and submission (refused here too), each once.
        Assert.Equal(["Score", "RecordAgentNote", "Submit"], h.Session.Calls.Select(c => c.Method));
    }

    [Fact]
    public async Task An_attempt_ended_by_the_orchestrator_ends_the_run_quietly()
    {
        await using var h = await AgentsHarness.StartAsync();
        h.Session.Behavior = (call, _) => call.Method == "Score"
            ? throw new RpcException(new Status(StatusCode.FailedPrecondition, "attempt has used its time budget; no more steps are accepted"))
            : Task.CompletedTask;
        var script = """
            {"run": "echo 1"}
            {"score": true}
            {"run": "echo 2"}
            """;
        var request = AgentsHarness.Request("scripted", ("script", script));

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("finished", "", 1), (run.State, run.Error, run.Steps));
        Assert.Equal(["Act", "Score"], h.Session.Calls.Select(c => c.Method));
    }

    [Fact]
    public async Task A_run_survives_the_orchestrator_going_down_mid_step_and_coming_back()
    {
        await using var h = await AgentsHarness.StartAsync();
        h.Session.Behavior = (call, context) => call.Index == 0
            ? Task.Delay(Timeout.Infinite, context.CancellationToken)
            : Task.CompletedTask;
        var script = """
            {"run": "python train.py"}
            {"score": true}
            """;
        var request = AgentsHarness.Request("scripted", ("script", script));

        await h.Client.StartRunAsync(request);
        await h.Session.FirstCall.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await h.Backends.StopAsync(); // aborts the hanging Act; the port refuses connections until the restart
        await Task.Delay(1500);
        Assert.Equal("running", (await h.Client.GetRunAsync(new GetRunRequest { AttemptId = request.AttemptId })).State);
        await h.Backends.StartAsync();
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("finished", "", 3), (run.State, run.Error, run.Steps));
        var calls = h.Session.Calls;
        Assert.Equal(["Act", "Act", "Score", "Submit"], calls.Select(c => c.Method));
        var id = request.AttemptId;
        Assert.Equal([$"{id}:1", $"{id}:1", $"{id}:2", $"{id}:3"], calls.Select(c => c.StepId));
    }
}
