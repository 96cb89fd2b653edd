using System.Text.Json.Nodes;

namespace ReBench.Agents.Tests.Llm;

public sealed class ModularDriverTests
{
    [Fact]
    public async Task OpenAI_tool_calls_are_carried_out_through_the_session_and_every_call_is_recorded_with_usage_and_cost()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(
            llm.OpenAiTool("bash", """{"command":"ls -la","timeout":30}""", prompt: 2000, completion: 100, cached: 500, reasoning: 40),
            llm.OpenAiTool("python", """{"code":"print(6*7)"}"""),
            llm.OpenAiTool("score", "{}"),
            llm.OpenAiTool("score_log", "{}"),
            llm.OpenAiTool("submit", """{"submission":"done"}"""));

        var (request, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(
            ["RecordModelCall", "Act", "RecordModelCall", "Act", "Act", "RecordModelCall", "Score", "RecordModelCall", "ScoreLog",
             "RecordModelCall", "Submit"], f.Methods);
        var acts = f.Session.Calls.Where(c => c.Method == "Act").Select(c => (ActRequest)c.Request).ToList();
        Assert.Equal(("ls -la", 30), (acts[0].Run.Command, acts[0].Run.TimeoutSeconds));
        Assert.Equal((".modular/snippet_1.py", "print(6*7)"), (acts[1].WriteFile.Path, acts[1].WriteFile.Content.ToStringUtf8()));
        Assert.Equal(("python3 .modular/snippet_1.py", 10), (acts[2].Run.Command, acts[2].Run.TimeoutSeconds));
        Assert.Equal("done", ((SubmitRequest)f.Session.Calls[^1].Request).Submission);
        // Step ids are consecutive across model calls and actions. Step 1 went to the first ReserveBudget, which this
        // fake session (like an orchestrator without a budget ledger) answers Unimplemented; the driver then stops reserving.
        Assert.Equal(Enumerable.Range(2, 10).Select(n => $"{request.AttemptId}:{n}"),
            f.Session.Calls.Where(c => c.Method != "ScoreLog").Select(c => c.StepId));

        var calls = f.ModelCalls;
        Assert.Equal(5, calls.Count);
        var first = calls[0];
        Assert.Equal(("oai", "fake-model", 2000L, 100L, 500L, 40L), (first.Provider, first.Model, first.InputTokens, first.OutputTokens, first.CachedTokens, first.ReasoningTokens));
        Assert.Equal(((1500 * 3.0) + (500 * 0.3) + (100 * 15.0)) / 1e6, first.CostUsd, 12);
        Assert.Equal(llm.Requests[0].Body, first.RequestJson);
        Assert.Contains("\"tool_calls\"", first.ResponseJson);
        Assert.All(calls, c => Assert.DoesNotContain(LlmFixture.Key, c.RequestJson + c.ResponseJson));

        // The wire: the key in the Authorization header only; the tools declared; the model told the time.
        var wire = llm.Requests[0];
        Assert.Equal("/v1/chat/completions", wire.Path);
        Assert.Equal($"Bearer {LlmFixture.Key}", wire.Headers["authorization"]);
        var body = wire.Json;
        Assert.Equal("fake-model", (string?)body["model"]);
        Assert.Equal(["bash", "python", "score", "score_log", "submit"],
            body["tools"]!.AsArray().Select(t => (string?)t!["function"]!["name"]));
        var messages = body["messages"]!.AsArray();
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Contains("background", (string?)messages[0]!["content"]);
        Assert.Contains("Improve the score.", messages[1]!["content"]!.ToJsonString());
        Assert.Contains("Time used: 0s of 1h 00m; time left: ", messages[1]!["content"]!.ToJsonString());
        // The second request carries the first tool's result with the time used and left.
        var toolMessage = llm.Requests[1].Json["messages"]!.AsArray().Last()!;
        Assert.Equal("tool", (string?)toolMessage["role"]);
        Assert.Contains("exit code 0", toolMessage["content"]!.ToJsonString());
        Assert.Contains("Time used", toolMessage["content"]!.ToJsonString());
    }

    [Fact]
    public async Task Anthropic_messages_api_drives_the_same_loop()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(
            llm.AnthropicTool("bash", """{"command":"nproc"}""", input: 1200, output: 80, cacheRead: 200),
            llm.AnthropicText("Thinking about it."),
            llm.AnthropicTool("submit", "{}"));

        var (_, run) = await f.RunAsync("claude");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(["RecordModelCall", "Act", "RecordModelCall", "RecordModelCall", "Submit"], f.Methods);
        var wire = llm.Requests[0];
        Assert.Equal("/v1/messages", wire.Path);
        // The official SDK (13.x) sends the API key as a bearer token.
        Assert.Equal($"Bearer {LlmFixture.ClaudeKey}", wire.Headers["authorization"]);
        Assert.True(wire.Headers.ContainsKey("anthropic-version"));
        Assert.Equal("claude-fake", (string?)wire.Json["model"]);
        Assert.NotNull(wire.Json["system"]);
        Assert.Equal(5, wire.Json["tools"]!.AsArray().Count);
        var calls = f.ModelCalls;
        Assert.Equal(3, calls.Count);
        Assert.True(calls[0].InputTokens >= 1200, $"input tokens {calls[0].InputTokens}");
        Assert.Equal((80L, 200L), (calls[0].OutputTokens, calls[0].CachedTokens));
        Assert.True(calls[0].CostUsd > 0);
        Assert.All(calls, c => Assert.DoesNotContain(LlmFixture.ClaudeKey, c.RequestJson + c.ResponseJson));
        // The tool result went back as a tool_result block; the plain-text turn got a nudge to use a tool.
        Assert.Contains("tool_result", llm.Requests[1].Body);
        Assert.Contains("You did not call a tool", llm.Requests[2].Body);
    }

    [Fact]
    public async Task Malformed_and_unknown_tool_calls_are_answered_to_the_model_as_errors()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(
            llm.OpenAiTool("bash", """{"command": "ls" """),          // cut JSON
            llm.OpenAiTool("browse_web", """{"url":"http://x"}"""),   // no such tool
            llm.OpenAiTool("bash", """{"cmd":"ls"}"""),               // missing field
            llm.OpenAiTool("bash", """{"command":"sleep 1","timeout":99999}"""),
            llm.OpenAiTool("submit", "{}"));

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        var act = Assert.Single(f.Session.Calls, c => c.Method == "Act");
        Assert.Equal(("sleep 1", 1440), (((ActRequest)act.Request).Run.Command, ((ActRequest)act.Request).Run.TimeoutSeconds));
        string LastTool(int i) => (string)llm.Requests[i].Json["messages"]!.AsArray().Last()!["content"]!;
        Assert.Contains("could not be parsed", LastTool(1));
        Assert.Contains("there is no tool 'browse_web'", LastTool(2));
        Assert.Contains("the argument 'command'", LastTool(3));
        Assert.Contains("timeout lowered to the maximum, 1440 s", LastTool(4));
        // Each error answer is part of the next recorded request.
        Assert.Contains("there is no tool", f.ModelCalls[2].RequestJson);
    }

    [Fact]
    public async Task Outputs_longer_than_100000_characters_are_shown_as_head_and_tail()
    {
        await using var f = await LlmFixture.StartAsync();
        var big = "HEAD" + new string('x', 150_000) + "TAIL";
        f.Session.Behavior = (call, _) => Task.CompletedTask;
        f.Backends().Session.ActStdout = big;
        f.Llm.Enqueue(f.Llm.OpenAiTool("bash", """{"command":"cat big"}"""), f.Llm.OpenAiTool("submit", "{}"));

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal("finished", run.State);
        var shown = (string)f.Llm.Requests[1].Json["messages"]!.AsArray().Last()!["content"]!;
        Assert.StartsWith("exit code 0\nstdout:\nHEAD", shown);
        Assert.Contains("characters elided", shown);
        Assert.Contains("TAIL", shown);
        Assert.InRange(shown.Length, 600, 1000);
    }

    [Fact]
    public async Task A_response_larger_than_the_context_is_cut_and_old_turns_dropped_so_requests_stay_within_the_window()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(llm.OpenAiTool("bash", """{"command":"echo 1"}"""), llm.OpenAiTool("bash", """{"command":"echo 2"}"""),
            llm.OpenAiText(new string('z', 200_000)), llm.OpenAiTool("bash", """{"command":"echo 3"}"""), llm.OpenAiTool("submit", "{}"));

        var (_, run) = await f.RunAsync("oai", ("max_context_tokens", "3000"));

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(5, llm.Requests.Count);
        // 3000 tokens at ~4 characters each, plus the JSON framing and the tool declarations.
        Assert.All(llm.Requests, r => Assert.True(r.Body.Length < 16_000, $"request of {r.Body.Length} characters"));
        var after = llm.Requests[3].Body;
        Assert.Contains("earlier messages were dropped", after);
        Assert.Contains("characters elided", after);
        Assert.Contains("Improve the score.", after); // the instructions are never dropped
    }
}

internal static class FixtureExtensions
{
    public static FakeBackends Backends(this LlmFixture f) => f.Harness.Backends;
}
