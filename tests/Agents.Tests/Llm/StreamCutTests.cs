namespace ReBench.Agents.Tests.Llm;

/// <summary>
/// A response stream cut in the middle: the fake server sends the headers (200, the whole body's Content-Length) and
/// half of the body, then resets the connection. Over both wire protocols the call is retried with the clock paused
/// and the reason recorded; cut every time, the run fails cleanly with that reason in its error and its model-call record.
/// </summary>
public sealed class StreamCutTests
{
    private static (LlmReply Bash, LlmReply Submit) Replies(FakeLlmServer llm, string provider) => provider == "oai"
        ? (llm.OpenAiTool("bash", """{"command":"echo hi"}"""), llm.OpenAiTool("submit", "{}"))
        : (llm.AnthropicTool("bash", """{"command":"echo hi"}"""), llm.AnthropicTool("submit", "{}"));

    [Theory]
    [InlineData("oai")]
    [InlineData("claude")]
    public async Task A_body_cut_mid_way_is_retried_with_the_clock_paused_and_the_reason_recorded(string provider)
    {
        await using var f = await LlmFixture.StartAsync();
        var (bash, submit) = Replies(f.Llm, provider);
        f.Llm.Enqueue(FakeLlmServer.CutInTheMiddle(bash), bash, submit);

        var (_, run) = await f.RunAsync(provider);

        Assert.Equal(("finished", ""), (run.State, run.Error));
        Assert.Equal(["PauseClock", "ResumeClock", "RecordModelCall", "Act", "RecordModelCall", "Submit"], f.Methods);
        var pause = (PauseClockRequest)f.Session.Calls[0].Request;
        Assert.Contains("cut off mid-body", pause.Reason);
        Assert.Contains("HTTP 200", pause.Reason);
        Assert.Equal(3, f.Llm.Requests.Count);
        Assert.Equal(f.Llm.Requests[0].Body, f.Llm.Requests[1].Body); // the same request sent again
        // The call is recorded once, with the complete answer of the retry, and its tool ran once.
        var first = f.ModelCalls[0];
        Assert.Contains("echo hi", first.ResponseJson);
        Assert.True(first.OutputTokens > 0);
        Assert.Equal("echo hi", ((ActRequest)Assert.Single(f.Session.Calls, c => c.Method == "Act").Request).Run.Command);
    }

    [Theory]
    [InlineData("oai", 4)]    // 1 + MaxRetries 3
    [InlineData("claude", 3)] // 1 + MaxRetries 2
    public async Task A_body_cut_every_time_fails_the_run_cleanly_with_the_reason_recorded(string provider, int tries)
    {
        await using var f = await LlmFixture.StartAsync();
        var (bash, _) = Replies(f.Llm, provider);
        f.Llm.Enqueue(Enumerable.Repeat(FakeLlmServer.CutInTheMiddle(bash), tries).ToArray());

        var (_, run) = await f.RunAsync(provider);

        Assert.Equal("failed", run.State);
        Assert.Contains("cut off mid-body", run.Error);
        Assert.Contains($"gave up after {tries} tries", run.Error);
        Assert.Equal(tries, f.Llm.Requests.Count);
        var record = Assert.Single(f.ModelCalls);
        using var response = JsonDocument.Parse(record.ResponseJson);
        Assert.Contains("cut off mid-body", response.RootElement.GetProperty("error").GetString());
        Assert.Equal(tries - 1, response.RootElement.GetProperty("retries").GetInt32());
        Assert.Equal((0L, 0.0), (record.OutputTokens, record.CostUsd));
        Assert.DoesNotContain("Act", f.Methods);
        // The run's end is in the attempt's stream: a run_failed note with the reason, then the submission.
        Assert.Equal(["RecordModelCall", "RecordAgentNote", "Submit"], f.Methods.Where(m => m is not ("PauseClock" or "ResumeClock")));
        var note = (AgentNoteRequest)f.Session.Calls[^2].Request;
        Assert.Equal("run_failed", note.Kind);
        Assert.Contains("cut off mid-body", note.Json);
        Assert.StartsWith("the agent's run failed: ", ((SubmitRequest)f.Session.Calls[^1].Request).Submission);
        // Every wait was a pause, and every pause was ended.
        Assert.Equal(tries - 1, f.Methods.Count(m => m == "PauseClock"));
        Assert.Equal(tries - 1, f.Methods.Count(m => m == "ResumeClock"));
    }
}
