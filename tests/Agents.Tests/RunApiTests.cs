namespace ReBench.Agents.Tests;

public sealed class RunApiTests
{
    [Theory]
    [InlineData("{\"score\": true}\n{\"run\": 5}", 2, "\"run\" must be a string")]
    [InlineData("{\"score\": true}\n\n{oops", 3, "not valid JSON")]
    [InlineData("[1, 2]", 1, "expected a JSON object")]
    [InlineData("{\"score\": true, \"run\": \"ls\"}", 1, "exactly one of")]
    [InlineData("{\"run\": \"ls\", \"timeout\": -1}", 1, "\"timeout\"")]
    [InlineData("{\"write\": \"a.txt\"}", 1, "\"content\" must be a string")]
    [InlineData("{\"run\": \"ls\", \"cwd\": \"/\"}", 1, "unexpected field \"cwd\"")]
    [InlineData("{\"submit\": \"x\"}\n{\"score\": true}", 2, "nothing may follow the submit on line 1")]
    public async Task A_bad_script_line_is_refused_naming_the_line_before_anything_starts(string script, int line, string problem)
    {
        await using var h = await AgentsHarness.StartAsync();
        var request = AgentsHarness.Request("scripted", ("script", script));

        var e = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(request).ResponseAsync, StatusCode.InvalidArgument);

        Assert.Contains($"script line {line}: ", e.Status.Detail);
        Assert.Contains(problem, e.Status.Detail);
        await AgentsHarness.FailsAsync(() => h.Client.GetRunAsync(new GetRunRequest { AttemptId = request.AttemptId }).ResponseAsync, StatusCode.NotFound);
        Assert.Empty(h.Session.Calls);
    }

    [Fact]
    public async Task An_unknown_agent_is_not_found_and_the_answer_lists_the_known_ones()
    {
        await using var h = await AgentsHarness.StartAsync();

        var e = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(AgentsHarness.Request("gpt-9")).ResponseAsync, StatusCode.NotFound);

        Assert.Equal("unknown agent 'gpt-9'; known: aide, modular, noop, reference, replay, scripted", e.Status.Detail);
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_problem()
    {
        await using var h = await AgentsHarness.StartAsync();
        var badId = AgentsHarness.Request("noop");
        badId.AttemptId = "attempt-1";
        var noScript = AgentsHarness.Request("scripted", ("script", "  "));
        var noTask = AgentsHarness.Request("noop");
        noTask.TaskId = "";
        var noTime = AgentsHarness.Request("noop");
        noTime.TimeBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(-1));
        // Unnormalized (nanos of the other sign): was INTERNAL from Duration.ToTimeSpan.
        var badTime = AgentsHarness.Request("noop");
        badTime.TimeBudget = new Google.Protobuf.WellKnownTypes.Duration { Seconds = 60, Nanos = -5 };

        var e1 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(badId).ResponseAsync, StatusCode.InvalidArgument);
        var e2 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(noScript).ResponseAsync, StatusCode.InvalidArgument);
        var e3 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(noTask).ResponseAsync, StatusCode.InvalidArgument);
        var e5 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(noTime).ResponseAsync, StatusCode.InvalidArgument);
        var e6 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(badTime).ResponseAsync, StatusCode.InvalidArgument);
        var e4 = await AgentsHarness.FailsAsync(() => h.Client.GetRunAsync(new GetRunRequest { AttemptId = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);

        Assert.Contains("attempt_id 'attempt-1'", e1.Status.Detail);
        Assert.Equal("agent 'scripted' needs setting(s): script", e2.Status.Detail);
        Assert.Contains("task_id", e3.Status.Detail);
        Assert.Contains("no run for attempt", e4.Status.Detail);
        Assert.Contains("time_budget must be positive", e5.Status.Detail);
        Assert.Contains("time_budget is not a valid duration", e6.Status.Detail);
        Assert.Empty(h.Session.Calls);
    }

    [Fact]
    public async Task Starting_an_attempt_twice_gives_one_run()
    {
        await using var h = await AgentsHarness.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
#pragma warning disable VSTHRD003 // the test's own gate, released below
        h.Session.Behavior = (_, _) => release.Task;
#pragma warning restore VSTHRD003
        var request = AgentsHarness.Request("noop");

        var first = await h.Client.StartRunAsync(request);
        await h.Session.FirstCall.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await h.Client.StartRunAsync(request);
        release.SetResult();
        var ended = await h.WaitForEndAsync(request.AttemptId);
        var third = await h.Client.StartRunAsync(request);

        Assert.Equal(("running", "running"), (first.State, second.State));
        Assert.Equal(("finished", 2), (third.State, third.Steps));
        Assert.Equal(ended, third);
        Assert.Equal(["Score", "Submit"], h.Session.Calls.Select(c => c.Method));
        var other = request.Clone();
        other.Agent = "reference";
        var e = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(other).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Contains("already has a run of agent 'noop'", e.Status.Detail);
    }

    [Fact]
    public async Task Every_session_call_carries_the_credential_of_the_latest_StartRun()
    {
        await using var h = await AgentsHarness.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Session.Behavior = (call, _) => call.Index == 1 ? release.Task : Task.CompletedTask;
        var script = """
            {"run": "echo one"}
            {"run": "echo two"}
            {"score": true}
            {"submit": ""}
            """;
        var request = AgentsHarness.Request("scripted", ("script", script));
        var first = request.SessionCredential;

        await h.Client.StartRunAsync(request);
        while (h.Session.Calls.Count < 2) await Task.Delay(20);
        // A relaunch of the same attempt hands over a new credential: the run's later calls carry it instead.
        var relaunch = request.Clone();
        relaunch.SessionCredential = AgentsHarness.NewCredential();
        await h.Client.StartRunAsync(relaunch);
        release.SetResult();
        await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal([first, first, relaunch.SessionCredential, relaunch.SessionCredential], h.Session.Calls.Select(c => c.Credential));
    }

    [Fact]
    public async Task StartRun_without_a_well_formed_session_credential_is_refused_without_quoting_it()
    {
        await using var h = await AgentsHarness.StartAsync();
        var none = AgentsHarness.Request("noop");
        none.SessionCredential = "";
        var bad = AgentsHarness.Request("noop");
        bad.SessionCredential = "secret value/with+bad=chars";

        var e1 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(none).ResponseAsync, StatusCode.InvalidArgument);
        var e2 = await AgentsHarness.FailsAsync(() => h.Client.StartRunAsync(bad).ResponseAsync, StatusCode.InvalidArgument);

        Assert.Contains("session_credential is required", e1.Status.Detail);
        Assert.Contains("session_credential is malformed", e2.Status.Detail);
        Assert.DoesNotContain("secret value", e2.Status.Detail);
        Assert.Empty(h.Session.Calls);
    }

    [Fact]
    public async Task StopRun_cancels_the_driver_mid_step_and_is_idempotent()
    {
        await using var h = await AgentsHarness.StartAsync();
        var callCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Session.Behavior = async (_, context) =>
        {
            // An orchestrator that never answers: only the driver giving up ends the call.
            try { await Task.Delay(Timeout.Infinite, context.CancellationToken); }
            finally { callCancelled.TrySetResult(); }
        };
        var script = string.Join("\n", Enumerable.Repeat("""{"run": "python train.py --epoch"}""", 50));
        var request = AgentsHarness.Request("scripted", ("script", script));

        await h.Client.StartRunAsync(request);
        await h.Session.FirstCall.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stopped = await h.Client.StopRunAsync(new StopRunRequest { AttemptId = request.AttemptId, Reason = "operator cancelled" });
        var again = await h.Client.StopRunAsync(new StopRunRequest { AttemptId = request.AttemptId, Reason = "again" });

        Assert.Equal(("stopped", "", 0), (stopped.State, stopped.Error, stopped.Steps));
        Assert.Equal(stopped, again);
        await callCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        var call = Assert.Single(h.Session.Calls);
        Assert.Equal($"{request.AttemptId}:1", call.StepId);
    }

    [Fact]
    public async Task Shutting_the_service_down_cancels_its_runs()
    {
        await using var h = await AgentsHarness.StartAsync();
        var callCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Session.Behavior = async (_, context) =>
        {
            try { await Task.Delay(Timeout.Infinite, context.CancellationToken); }
            finally { callCancelled.TrySetResult(); }
        };
        var request = AgentsHarness.Request("noop");

        await h.Client.StartRunAsync(request);
        await h.Session.FirstCall.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await h.StopServiceAsync().WaitAsync(TimeSpan.FromSeconds(20));

        await callCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["Score"], h.Session.Calls.Select(c => c.Method));
    }

    [Fact]
    public async Task StopRun_for_an_unknown_attempt_is_not_found()
    {
        await using var h = await AgentsHarness.StartAsync();

        await AgentsHarness.FailsAsync(
            () => h.Client.StopRunAsync(new StopRunRequest { AttemptId = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
    }
}
