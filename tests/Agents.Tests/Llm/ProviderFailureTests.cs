using System.Diagnostics;

namespace ReBench.Agents.Tests.Llm;

public sealed class ProviderFailureTests
{
    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_with_the_attempt_clock_paused()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(FakeLlmServer.OpenAiError(429, "rate limited", ("Retry-After", "1")), llm.OpenAiTool("submit", "{}"));

        var clock = Stopwatch.StartNew();
        var (request, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"took {clock.Elapsed}, less than the Retry-After");
        Assert.Equal(["PauseClock", "ResumeClock", "RecordModelCall", "Submit"], f.Methods);
        var pause = (PauseClockRequest)f.Session.Calls[0].Request;
        Assert.Contains("HTTP 429", pause.Reason);
        Assert.Contains("waiting 1 s", pause.Reason);
        Assert.Equal(2, llm.Requests.Count);
        Assert.Equal(llm.Requests[0].Body, llm.Requests[1].Body); // the same request sent again
        var call = Assert.Single(f.ModelCalls);
        Assert.True(call.LatencyMs >= 900, $"latency {call.LatencyMs} ms");
    }

    [Fact]
    public async Task A_500_is_retried_and_the_run_goes_on()
    {
        await using var f = await LlmFixture.StartAsync();
        var llm = f.Llm;
        llm.Enqueue(new LlmReply(500, "upstream broke"), new LlmReply(503, "overloaded"), llm.OpenAiTool("submit", "{}"));

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(["PauseClock", "ResumeClock", "PauseClock", "ResumeClock", "RecordModelCall", "Submit"], f.Methods);
        Assert.Equal(3, llm.Requests.Count);
    }

    [Fact]
    public async Task Persistent_5xx_fails_the_run_with_the_reason_recorded_after_the_retries()
    {
        await using var f = await LlmFixture.StartAsync();
        f.Llm.Enqueue(Enumerable.Repeat(new LlmReply(502, "bad gateway from upstream"), 4).ToArray());

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal("failed", run.State);
        Assert.Contains("HTTP 502", run.Error);
        Assert.Contains("bad gateway from upstream", run.Error);
        Assert.Equal(4, f.Llm.Requests.Count); // 1 + MaxRetries (3)
        var record = Assert.Single(f.ModelCalls);
        using var response = JsonDocument.Parse(record.ResponseJson);
        Assert.Equal(502, response.RootElement.GetProperty("http_status").GetInt32());
        Assert.Equal(3, response.RootElement.GetProperty("retries").GetInt32());
        Assert.Equal((0L, 0.0), (record.InputTokens, record.CostUsd));
        // The failure is noted in the attempt's stream and the attempt submitted as it stands, not left idle to its deadline.
        Assert.Equal(["RecordModelCall", "RecordAgentNote", "Submit"], f.Methods.TakeLast(3));
        var note = (AgentNoteRequest)f.Session.Calls[^2].Request;
        Assert.Equal("run_failed", note.Kind);
        Assert.Contains("HTTP 502", note.Json);
        Assert.Contains("HTTP 502", ((SubmitRequest)f.Session.Calls[^1].Request).Submission);
    }

    [Fact]
    public async Task A_try_with_no_answer_within_the_request_timeout_is_abandoned_and_retried_with_the_clock_paused()
    {
        await using var f = await LlmFixture.StartAsync(("Agents:Providers:oai:RequestTimeout", "00:00:01"));
        var llm = f.Llm;
        llm.Enqueue(llm.OpenAiTool("submit", "{}") with { Delay = TimeSpan.FromSeconds(30) }, llm.OpenAiTool("submit", """{"submission":"second try"}"""));

        var clock = Stopwatch.StartNew();
        var (_, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"took {clock.Elapsed}: the slow try was not abandoned");
        Assert.Equal(["PauseClock", "ResumeClock", "RecordModelCall", "Submit"], f.Methods);
        Assert.Contains("no answer within 1 s", ((PauseClockRequest)f.Session.Calls[0].Request).Reason);
        Assert.Equal("second try", ((SubmitRequest)f.Session.Calls[^1].Request).Submission);
        Assert.Equal(2, llm.Requests.Count);
    }

    [Fact]
    public async Task A_malformed_response_is_recorded_and_asked_again()
    {
        await using var f = await LlmFixture.StartAsync();
        f.Llm.Enqueue(new LlmReply(200, """{"id": "chatcmpl-1", "choices": [ {"index": 0, "mess"""), f.Llm.OpenAiTool("submit", "{}"));

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(["RecordModelCall", "RecordModelCall", "Submit"], f.Methods);
        Assert.Contains("could not be read", f.ModelCalls[0].ResponseJson);
    }

    [Fact]
    public async Task Malformed_responses_every_time_fail_the_run_cleanly()
    {
        await using var f = await LlmFixture.StartAsync();
        f.Llm.Enqueue(Enumerable.Repeat(new LlmReply(200, "<html>not json</html>"), 3).ToArray());

        var (_, run) = await f.RunAsync("oai");

        Assert.Equal("failed", run.State);
        Assert.Contains("could not be read", run.Error);
        Assert.Equal(3, f.ModelCalls.Count);
    }

    [Fact]
    public async Task A_model_the_endpoint_rejects_fails_the_run_with_the_providers_message()
    {
        await using var f = await LlmFixture.StartAsync();
        f.Llm.Enqueue(FakeLlmServer.OpenAiError(404, $"The model `no-such-model` does not exist (key {LlmFixture.Key})"));

        var (_, run) = await f.RunAsync("oai", ("model", "no-such-model"));

        Assert.Equal("failed", run.State);
        Assert.Contains("HTTP 404", run.Error);
        Assert.Contains("does not exist", run.Error);
        Assert.Equal("no-such-model", (string?)f.Llm.Requests.Single().Json["model"]);
        var record = Assert.Single(f.ModelCalls);
        Assert.Equal("no-such-model", record.Model);
        // A key echoed back by the provider is redacted in the record and in the run's error.
        Assert.DoesNotContain(LlmFixture.Key, record.ResponseJson);
        Assert.DoesNotContain(LlmFixture.Key, run.Error);
        Assert.Contains("[redacted]", record.ResponseJson);
    }

    [Fact]
    public async Task An_Anthropic_overload_is_retried_then_an_invalid_request_fails_the_run()
    {
        await using var f = await LlmFixture.StartAsync();
        f.Llm.Enqueue(FakeLlmServer.AnthropicError(529, "overloaded_error", "Overloaded"),
            FakeLlmServer.AnthropicError(400, "invalid_request_error", "model: claude-nope is not a valid model"));

        var (_, run) = await f.RunAsync("claude", ("model", "claude-nope"));

        Assert.Equal("failed", run.State);
        Assert.Contains("HTTP 400", run.Error);
        Assert.Contains("not a valid model", run.Error);
        Assert.Equal(["PauseClock", "ResumeClock", "RecordModelCall", "RecordAgentNote", "Submit"], f.Methods);
        Assert.Contains("not a valid model", ((AgentNoteRequest)f.Session.Calls[^2].Request).Json);
    }

    [Theory]
    [InlineData("no-such-provider", "unknown provider 'no-such-provider' (configured: claude, nokey, oai)")]
    [InlineData("nokey", "provider 'nokey' has no API key (set ApiKey, ApiKeyFile or ApiKeyEnv under Agents:Providers:nokey)")]
    public async Task StartRun_refuses_a_provider_that_cannot_be_used(string provider, string message)
    {
        await using var f = await LlmFixture.StartAsync();
        var request = AgentsHarness.Request("modular", ("provider", provider));

        var e = await AgentsHarness.FailsAsync(() => f.Harness.Client.StartRunAsync(request).ResponseAsync, StatusCode.InvalidArgument);

        Assert.Equal(message, e.Status.Detail);
        Assert.Empty(f.Session.Calls);
        Assert.Empty(f.Llm.Requests);
    }

    [Theory]
    [InlineData("max_context_tokens", "lots", "setting 'max_context_tokens' must be a whole number, at least 1000, got 'lots'")]
    [InlineData("temperature", "0.2", "unknown setting(s) for agent 'modular': temperature")]
    public async Task StartRun_refuses_bad_settings(string key, string value, string message)
    {
        await using var f = await LlmFixture.StartAsync();
        var request = AgentsHarness.Request("modular", ("provider", "oai"), (key, value));

        var e = await AgentsHarness.FailsAsync(() => f.Harness.Client.StartRunAsync(request).ResponseAsync, StatusCode.InvalidArgument);

        Assert.Equal(message, e.Status.Detail);
    }

    [Fact]
    public async Task StartRun_without_a_provider_names_the_missing_setting()
    {
        await using var f = await LlmFixture.StartAsync();
        var e = await AgentsHarness.FailsAsync(() => f.Harness.Client.StartRunAsync(AgentsHarness.Request("modular")).ResponseAsync,
            StatusCode.InvalidArgument);
        Assert.Equal("agent 'modular' needs setting(s): provider", e.Status.Detail);
    }
}
