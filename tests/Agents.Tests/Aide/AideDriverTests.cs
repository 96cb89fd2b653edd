namespace ReBench.Agents.Tests.Aide;

/// <summary>The AIDE driver against a real fake model server and a fake task environment, both on loopback.</summary>
public sealed class AideDriverTests
{
    private static string Answer(string plan, string code) => $"{plan}\n\n```python\n{code}\n```\n";

    [Fact]
    public async Task Drafts_debugs_the_failing_node_improves_the_best_and_submits_the_best_nodes_file()
    {
        await using var f = await AideFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(
            llm.OpenAiText(Answer("A loop over the input.", "raise ValueError('boom')")),
            llm.OpenAiText(Answer("Remove the raise.", "# normalized=0.3\nprint('v1')")),
            llm.OpenAiText(Answer("Vectorize with numpy.", "# normalized=0.8\nprint('v2')")),
            llm.OpenAiText(Answer("Use a smaller dtype.", "# normalized=0.5\nprint('v3')")));

        var (request, run) = await f.RunAsync(("provider", "oai"), ("solution_file", "solution.py"), ("num_drafts", "1"),
            ("max_debug_depth", "2"), ("debug_prob", "1"), ("max_nodes", "4"), ("seed", "7"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var nodes = f.NotesOf("aide_node");
        Assert.Equal(["draft", "debug", "improve", "improve"], nodes.Select(n => (string?)n["operation"]));
        Assert.Equal([null, 0, 1, 2], nodes.Select(n => (int?)n["parent"]));
        Assert.Equal([true, false, false, false], nodes.Select(n => (bool)n["buggy"]!));
        Assert.Equal("`python3 'solution.py'` exited with code 1", (string?)nodes[0]["buggy_reason"]);
        Assert.Equal([null, 0.3, 0.8, 0.5], nodes.Select(n => (double?)n["normalized_score"]));
        Assert.Equal([false, true, true, false], nodes.Select(n => (bool)n["best_so_far"]!));
        Assert.Equal("Vectorize with numpy.", (string?)nodes[2]["plan"]);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"{request.AttemptId}:aide:node:{i}"),
            f.Env.Notes.Where(n => n.Kind == "aide_node").Select(n => n.StepId));

        var tree = Assert.Single(f.NotesOf("aide_tree"));
        Assert.Equal((2, 4, 3), ((int)tree["best_node"]!, (int)tree["node_count"]!, (int)tree["good_count"]!));
        Assert.Equal(0.8, (double)tree["best_normalized_score"]!);
        Assert.Contains("highest normalized score", (string?)tree["reason"]);
        Assert.Equal("max_nodes (4) reached", (string?)tree["stop_reason"]);
        Assert.Equal([false, false, true, false], tree["nodes"]!.AsArray().Select(n => (bool)n!["chosen"]!));
        Assert.Equal((string?)nodes[2]["code_sha256"], (string?)tree["best_code_sha256"]);

        // The best node's file is written back and run again (a later node ran since), then submitted.
        Assert.Equal("# normalized=0.8\nprint('v2')\n", f.Writes[^1].WriteFile.Content.ToStringUtf8());
        Assert.Equal("# normalized=0.8\nprint('v2')\n", f.Env.Files["solution.py"]);
        var methods = f.Methods;
        Assert.Equal(["Act", "Act", "RecordAgentNote", "Submit"], methods.TakeLast(4));
        Assert.Equal("aide: node 2", ((SubmitRequest)f.Env.Calls[^1].Request).Submission);
        Assert.Equal(4, methods.Count(m => m == "RecordModelCall"));
        Assert.Equal(3, methods.Count(m => m == "Score")); // the buggy node's failed run is not scored

        // What the model saw: the debug prompt carries the failure, the improve prompts the best code so far.
        Assert.Contains("Task description", f.Prompt(0));
        Assert.Contains("Improve the score.", f.Prompt(0));
        Assert.Contains("ValueError: boom", f.Prompt(1));
        Assert.Contains("Your previous solution had a bug", f.Prompt(1));
        Assert.Contains("# normalized=0.3", f.Prompt(2));
        Assert.Contains("# normalized=0.8", f.Prompt(3));
        Assert.Contains("Node 1 (debug of node 0)", f.Prompt(3));
        Assert.All(llm.Requests, r => Assert.Equal($"Bearer {LlmFixture.Key}", r.Headers["authorization"]));
    }

    [Fact]
    public async Task Answers_without_usable_code_make_buggy_nodes_and_the_search_goes_on()
    {
        await using var f = await AideFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(
            llm.OpenAiText("I would vectorize it, but here is no code."),
            llm.OpenAiText("Plan.\n```python\nprint('never closed')\n"),
            llm.OpenAiText("Plan.\n```bash\nls -la\n```"),
            llm.OpenAiTool("bash", """{"command":"ls"}"""),
            llm.OpenAiText(Answer("A real one.", "# normalized=0.4\nprint('ok')")));

        var (_, run) = await f.RunAsync(("provider", "oai"), ("solution_file", "solution.py"), ("num_drafts", "5"), ("max_nodes", "5"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var nodes = f.NotesOf("aide_node");
        Assert.Equal([true, true, true, true, false], nodes.Select(n => (bool)n["buggy"]!));
        Assert.Contains("no fenced code block", (string?)nodes[0]["buggy_reason"]);
        Assert.Contains("not closed", (string?)nodes[1]["buggy_reason"]);
        Assert.Contains("no Python code block (found only: bash)", (string?)nodes[2]["buggy_reason"]);
        Assert.Contains("empty", (string?)nodes[3]["buggy_reason"]);
        Assert.All(nodes.Take(4), n => Assert.Null((string?)n["code_sha256"]));
        // Nothing was written or run for them: one write for node 4, one to restore it.
        Assert.Equal(2, f.Writes.Count);
        Assert.Equal(4, (int)Assert.Single(f.NotesOf("aide_tree"))["best_node"]!);
        Assert.Equal(5, f.Methods.Count(m => m == "RecordModelCall"));
    }

    [Fact]
    public async Task When_no_node_is_valid_the_original_file_is_put_back()
    {
        await using var f = await AideFixture.StartAsync();
        f.Env.Files["solution.py"] = "ORIGINAL starting solution\n";
        var llm = f.Llm;
        llm.Enqueue(
            llm.AnthropicText(Answer("First try.", "raise RuntimeError()")),
            llm.AnthropicText(Answer("Second try.", "# normalized=0.9 WRONG")));

        var (_, run) = await f.RunAsync(("provider", "claude"), ("solution_file", "solution.py"), ("num_drafts", "2"), ("max_nodes", "2"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var nodes = f.NotesOf("aide_node");
        Assert.Equal([true, true], nodes.Select(n => (bool)n["buggy"]!));
        Assert.Contains("the scorer found the solution invalid", (string?)nodes[1]["buggy_reason"]);
        Assert.Equal("ORIGINAL starting solution\n", f.Env.Files["solution.py"]);
        var tree = Assert.Single(f.NotesOf("aide_tree"));
        Assert.Null(tree["best_node"]);
        Assert.Equal("the original file: no node was valid", (string?)tree["restored"]);
        Assert.All(f.Llm.Requests, r => Assert.Equal("/v1/messages", r.Path));
        // The workspace preview showed the starting solution to the model.
        Assert.Contains("ORIGINAL starting solution", f.Llm.Requests[0].Body);
    }

    [Fact]
    public async Task Without_a_solution_file_setting_the_model_is_asked_which_file_to_write()
    {
        await using var f = await AideFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(llm.OpenAiText("The scorer reads `answer.py`."), llm.OpenAiText(Answer("Go.", "# normalized=0.2")));

        var (_, run) = await f.RunAsync(("provider", "oai"), ("max_nodes", "1"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Contains("Which single file", f.Prompt(0));
        Assert.All(f.Writes, w => Assert.Equal("answer.py", w.WriteFile.Path));
        var tree = Assert.Single(f.NotesOf("aide_tree"));
        Assert.Equal(("answer.py", "model"), ((string?)tree["solution_file"], (string?)tree["solution_file_source"]));
        Assert.Contains("`answer.py`", f.Prompt(1));
    }

    [Fact]
    public async Task A_model_call_that_fails_after_a_good_node_ends_the_search_and_submits_the_best()
    {
        await using var f = await AideFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(llm.OpenAiText(Answer("Fine.", "# normalized=0.6")), FakeLlmServer.OpenAiError(400, "model 'fake-model' is not served here"));

        var (_, run) = await f.RunAsync(("provider", "oai"), ("solution_file", "solution.py"), ("num_drafts", "2"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var tree = Assert.Single(f.NotesOf("aide_tree"));
        Assert.StartsWith("model call failed:", (string?)tree["stop_reason"]);
        Assert.Contains("HTTP 400", (string?)tree["stop_reason"]);
        Assert.Equal(0, (int)tree["best_node"]!);
        Assert.Equal("Submit", f.Methods[^1]);
        Assert.Equal(2, f.Methods.Count(m => m == "RecordModelCall")); // the failed call is recorded too
    }

    [Fact]
    public async Task The_search_stops_when_only_the_reserve_of_the_time_budget_is_left()
    {
        await using var f = await AideFixture.StartAsync();
        f.Env.Files["solution.py"] = "start\n";

        // The request's budget is one hour; a reserve of one hour leaves no time for any node.
        var (_, run) = await f.RunAsync(("provider", "oai"), ("solution_file", "solution.py"), ("reserve_seconds", "3600"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Empty(f.Llm.Requests);
        var tree = Assert.Single(f.NotesOf("aide_tree"));
        Assert.StartsWith("time budget:", (string?)tree["stop_reason"]);
        Assert.Equal(0, (int)tree["node_count"]!);
        Assert.Equal("Submit", f.Methods[^1]);
    }

    [Theory]
    [InlineData("temperature", "0.2", "unknown setting(s) for agent 'aide': temperature")]
    [InlineData("num_drafts", "0", "setting 'num_drafts' must be a whole number from 1 to 1000, got '0'")]
    [InlineData("debug_prob", "1.5", "setting 'debug_prob' must be a number from 0 to 1, got '1.5'")]
    [InlineData("solution_file", "../etc/passwd", "setting 'solution_file': '../etc/passwd' must not contain empty, '.' or '..' parts")]
    [InlineData("run_solution", "maybe", "setting 'run_solution' must be true or false, got 'maybe'")]
    [InlineData("exec_timeout_seconds", "99999", "setting 'exec_timeout_seconds' must be a whole number from 1 to 1440, got '99999'")]
    public async Task Bad_settings_are_refused_with_a_message_naming_the_setting(string name, string value, string message)
    {
        await using var f = await AideFixture.StartAsync();
        var request = AgentsHarness.Request("aide", ("provider", "oai"), (name, value));

        var e = await AgentsHarness.FailsAsync(() => f.Client.StartRunAsync(request).ResponseAsync, StatusCode.InvalidArgument);

        Assert.Contains(message, e.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_provider_or_a_missing_provider_is_refused()
    {
        await using var f = await AideFixture.StartAsync();

        var unknown = await AgentsHarness.FailsAsync(() => f.Client.StartRunAsync(AgentsHarness.Request("aide", ("provider", "nope"))).ResponseAsync,
            StatusCode.InvalidArgument);
        var missing = await AgentsHarness.FailsAsync(() => f.Client.StartRunAsync(AgentsHarness.Request("aide")).ResponseAsync,
            StatusCode.InvalidArgument);

        Assert.Contains("unknown provider 'nope'", unknown.Status.Detail);
        Assert.Contains("needs setting(s): provider", missing.Status.Detail);
    }
}
