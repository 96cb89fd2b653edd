using ReBench.Scoring.V1;

namespace ReBench.Agents.Tests;

public sealed class DriverTests
{
    [Fact]
    public async Task Noop_scores_once_then_submits()
    {
        await using var h = await AgentsHarness.StartAsync();
        var request = AgentsHarness.Request("noop");

        var started = await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal("noop", started.Agent);
        Assert.Equal(("finished", "", 2), (run.State, run.Error, run.Steps));
        Assert.Equal(["Score", "Submit"], h.Session.Calls.Select(c => c.Method));
        Assert.Equal([$"{request.AttemptId}:1", $"{request.AttemptId}:2"], h.Session.Calls.Select(c => c.StepId));
        Assert.Equal(request.AttemptId, ((ScoreRequest)h.Session.Calls[0].Request).AttemptId);
        Assert.Equal(request.AttemptId, ((SubmitRequest)h.Session.Calls[1].Request).AttemptId);
    }

    [Fact]
    public async Task Reference_writes_the_reference_files_lists_them_then_scores_and_submits()
    {
        await using var h = await AgentsHarness.StartAsync();
        h.Backends.Scoring.Solution = new ReferenceSolution
        {
            Files =
            {
                new SolutionFile { Path = "solution/model.py", Content = ByteString.CopyFromUtf8("print('reference')\n") },
                new SolutionFile { Path = "it's.txt", Content = ByteString.CopyFrom(0, 255, 7) },
            },
        };
        var request = AgentsHarness.Request("reference");

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var reference = Assert.Single(h.Backends.Scoring.Requests);
        Assert.Equal(("fix_embedding", "main"), (reference.TaskId, reference.Variant));
        var calls = h.Session.Calls;
        Assert.Equal(["Act", "Act", "Act", "Score", "Submit"], calls.Select(c => c.Method));
        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"{request.AttemptId}:{n}"), calls.Select(c => c.StepId));
        var writes = calls.Take(2).Select(c => ((ActRequest)c.Request).WriteFile).ToList();
        Assert.Equal(h.Backends.Scoring.Solution.Files.Select(f => (f.Path, f.Content)), writes.Select(w => (w.Path, w.Content)));
        var list = ((ActRequest)calls[2].Request).Run;
        Assert.Equal("ls -la -- 'solution/model.py' 'it'\\''s.txt'", list.Command);
    }

    [Fact]
    public async Task Reference_fails_the_run_when_the_task_has_no_reference_solution()
    {
        await using var h = await AgentsHarness.StartAsync();
        var request = AgentsHarness.Request("reference");

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal("failed", run.State);
        Assert.Contains("has no reference solution", run.Error);
        // Nothing was done; the failure is noted in the attempt's stream and the attempt submitted as it stands.
        Assert.Equal(["RecordAgentNote", "Submit"], h.Session.Calls.Select(c => c.Method));
        var note = (AgentNoteRequest)h.Session.Calls[0].Request;
        Assert.Equal("run_failed", note.Kind);
        Assert.Contains("has no reference solution", note.Json);
    }

    [Fact]
    public async Task Scripted_plays_the_script_in_order_with_step_ids_1_to_n()
    {
        await using var h = await AgentsHarness.StartAsync();
        const string script = """
            {"run": "python train.py", "timeout": 10}

            {"write": "notes/plan.md", "content": "try a lower lr\n"}
            {"score": true}
            {"run": "nvidia-smi"}
            {"submit": "final answer"}
            """;
        var request = AgentsHarness.Request("scripted", ("script", script));

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal(("finished", "", 5), (run.State, run.Error, run.Steps));
        var calls = h.Session.Calls;
        Assert.Equal(["Act", "Act", "Score", "Act", "Submit"], calls.Select(c => c.Method));
        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"{request.AttemptId}:{n}"), calls.Select(c => c.StepId));
        var first = ((ActRequest)calls[0].Request).Run;
        Assert.Equal(("python train.py", 10), (first.Command, first.TimeoutSeconds));
        var write = ((ActRequest)calls[1].Request).WriteFile;
        Assert.Equal(("notes/plan.md", "try a lower lr\n"), (write.Path, write.Content.ToStringUtf8()));
        Assert.Equal(("nvidia-smi", 0), (((ActRequest)calls[3].Request).Run.Command, ((ActRequest)calls[3].Request).Run.TimeoutSeconds));
        Assert.Equal("final answer", ((SubmitRequest)calls[4].Request).Submission);
    }

    [Fact]
    public async Task Scripted_submits_at_the_end_when_the_script_does_not()
    {
        await using var h = await AgentsHarness.StartAsync();
        var request = AgentsHarness.Request("scripted", ("script", """{"run": "echo hi"}"""));

        await h.Client.StartRunAsync(request);
        var run = await h.WaitForEndAsync(request.AttemptId);

        Assert.Equal("finished", run.State);
        Assert.Equal(["Act", "Submit"], h.Session.Calls.Select(c => c.Method));
        Assert.Equal($"{request.AttemptId}:2", h.Session.Calls[1].StepId);
        Assert.Equal("", ((SubmitRequest)h.Session.Calls[1].Request).Submission);
    }

    [Fact]
    public async Task ListAgents_describes_every_driver_and_its_required_settings()
    {
        await using var h = await AgentsHarness.StartAsync();

        var agents = (await h.Client.ListAgentsAsync(new ListAgentsRequest())).Agents;

        Assert.Equal(["aide", "modular", "noop", "reference", "replay", "scripted"], agents.Select(a => a.Name));
        Assert.All(agents, a => Assert.False(string.IsNullOrWhiteSpace(a.Description)));
        Assert.Equal(["script"], agents.Single(a => a.Name == "scripted").RequiredSettings);
        Assert.Empty(agents.Single(a => a.Name == "noop").RequiredSettings);
    }
}
