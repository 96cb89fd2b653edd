using System.Text.RegularExpressions;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Human baselines through the gateway with an API key, against the real processes: a terminal (PTY over gRPC,
/// gateway -> orchestrator OpenTerminal -> sandbox ExecInteractive) into an attempt of agent `human`, a command typed
/// and its output seen, a score, a break (clock paused and resumed), the submission; what was typed and shown is in the
/// attempt's sealed stream. Then the same through the `rebench human` CLI with its stdin piped.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class HumanTerminalEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_human_types_scores_takes_a_break_and_submits_through_the_gateway_and_everything_is_recorded()
    {
        var client = Platform.Orchestrator();
        var attemptId = await StartHumanAttemptAsync(client, "human-e2e");

        // Bad input first: no API key, an unknown attempt.
        var noKey = await Assert.ThrowsAsync<RpcException>(() => ReadWithoutWritingAsync(Platform.Orchestrator(apiKey: null)));
        Assert.Equal(StatusCode.Unauthenticated, noKey.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => OpenAndReadAsync(client, Guid.NewGuid().ToString()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        await using var terminal = await Terminal.OpenAsync(client, attemptId);
        await terminal.TypeAsync("echo typed-$((6*7))\n");
        await terminal.WaitForAsync("typed-42");

        // A command that prints steadily (never a quiet second) has its output recorded while it still runs.
        await terminal.TypeAsync("for i in $(seq 1 40); do echo tick$i; sleep 0.25; done\n");
        await terminal.WaitForAsync("tick3\r\n");
        var recordedWhileRunning = false;
        var pollUntil = DateTime.UtcNow.AddSeconds(60);
        while (!recordedWhileRunning && DateTime.UtcNow < pollUntil && !terminal.Shows("tick40"))
        {
            recordedWhileRunning = (await Waits.EventsAsync(client, attemptId))
                .Any(e => e.EventType == "terminal_output_recorded" && e.Field("Text").GetString()!.Contains("tick2\r\n", StringComparison.Ordinal));
            if (!recordedWhileRunning) await Task.Delay(200);
        }
        Assert.True(recordedWhileRunning && !terminal.Shows("tick40"), "the steady output was recorded only after the command ended");
        await terminal.WaitForAsync("tick40");

        var score = await client.HumanBaselines.HumanScoreAsync(new HumanStepRequest { AttemptId = attemptId, StepId = "human-score-1" });
        output.WriteLine($"score: valid={score.Valid} raw={score.RawScore} normalized={score.NormalizedScore} {score.MessageJson}");
        Assert.True(score.Valid, score.MessageJson);
        var log = await client.HumanBaselines.HumanScoreLogAsync(new HumanStepRequest { AttemptId = attemptId });
        Assert.Single(log.Entries);

        var paused = await client.HumanBaselines.HumanPauseClockAsync(new HumanStepRequest { AttemptId = attemptId, Reason = "coffee" });
        Assert.True(paused.Paused);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var resumed = await client.HumanBaselines.HumanResumeClockAsync(new HumanStepRequest { AttemptId = attemptId });
        Assert.False(resumed.Paused);
        Assert.True(resumed.PausedTotalMs >= 1400, $"paused in total {resumed.PausedTotalMs} ms");

        // The last command's output is seen and at once the human submits: it must still be recorded.
        await terminal.TypeAsync("echo second-$((2+3)) > marker.txt; cat marker.txt\n");
        await terminal.WaitForAsync("second-5");
        var submitted = await client.HumanBaselines.HumanSubmitAsync(new HumanStepRequest { AttemptId = attemptId, Submission = "done by hand" });
        output.WriteLine($"submitted: valid={submitted.FinalScoreValid} raw={submitted.RawScore} normalized={submitted.NormalizedScore}");
        Assert.True(submitted.FinalScoreValid);
        var exit = await terminal.ExitAsync();
        Assert.Equal("attempt ended", exit?.Reason);

        // A terminal on an ended attempt is refused, naming why.
        var ended = await Assert.ThrowsAsync<RpcException>(() => OpenAndReadAsync(client, attemptId));
        Assert.Equal(StatusCode.FailedPrecondition, ended.StatusCode);
        Assert.Contains("not running", ended.Status.Detail);

        var events = await Waits.EventsAsync(client, attemptId);
        var types = events.Select(e => e.EventType).ToList();
        output.WriteLine(string.Join(", ", types));
        var submittedAt = events.Single(e => e.EventType == "submission_received").Version;
        Assert.Single(events, e => e.EventType == "terminal_session_opened");
        var typed = string.Concat(events.Where(e => e.EventType == "terminal_input_recorded").Select(e => e.Field("Text").GetString()));
        var shown = string.Concat(events.Where(e => e.EventType == "terminal_output_recorded").Select(e => e.Field("Text").GetString()));
        Assert.Contains("echo typed-$((6*7))", typed, StringComparison.Ordinal);
        Assert.Contains("echo second-$((2+3)) > marker.txt; cat marker.txt", typed, StringComparison.Ordinal);
        Assert.Contains("typed-42", shown, StringComparison.Ordinal);
        Assert.Contains("second-5", shown, StringComparison.Ordinal);
        // Every terminal record lies inside the attempt, before the submission that ended it.
        Assert.All(events.Where(e => e.EventType.StartsWith("terminal_", StringComparison.Ordinal)), e => Assert.True(e.Version < submittedAt, $"{e.EventType} #{e.Version}"));
        var sequences = events.Where(e => e.EventType is "terminal_input_recorded" or "terminal_output_recorded").Select(e => e.Field("Sequence").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count), sequences);

        // The human's steps are the same records an agent's are.
        Assert.Contains(events, e => e.EventType == "score_requested" && e.Field("StepId").GetString() == "human-score-1");
        Assert.True(events.Count(e => e.EventType == "intermediate_score_recorded") >= 2); // the human's and the final one
        Assert.Equal("coffee", events.Single(e => e.EventType == "attempt_paused").Field("Reason").GetString());
        Assert.Single(events, e => e.EventType == "attempt_resumed");
        Assert.Equal("done by hand", events.Single(e => e.EventType == "submission_received").Field("Submission").GetString());
        Assert.Contains(events, e => e.EventType == "final_score_recorded");
        Assert.Contains(events, e => e.EventType == "attempt_completed");

        var verified = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attemptId });
        Assert.True(verified.Ok && verified.Sealed, verified.Problem);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Rebench_human_starts_the_attempt_and_its_terminal_escapes_score_pause_resume_and_submit()
    {
        var args = Cli.Args(Platform, PlatformProcesses.ApiKey, "human", "--task", "ai_rd_triton_cumsum:cpu", "--budget", "5m", "--name", "human-cli-e2e");
        using var p = Process.Start(new ProcessStartInfo("dotnet", args)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // Piped stdin: a command, then the escapes at the start of lines: score, pause, resume, score log, submit.
        await p.StandardInput.WriteAsync("echo cli-$((40+2))\n~s~p~r~l~S");
        await p.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            p.StandardInput.Close();
        }
        var (shown, notes) = (await stdout, await stderr);
        output.WriteLine($"--- stdout ---\n{shown}\n--- stderr ---\n{notes}");

        var attemptId = AttemptLine().Match(notes).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(attemptId), "the CLI did not name its attempt");
        Assert.Contains("cli-42", shown, StringComparison.Ordinal);
        Assert.Contains("score: raw", notes, StringComparison.Ordinal);
        Assert.Contains("clock paused", notes, StringComparison.Ordinal);
        Assert.Contains("clock running", notes, StringComparison.Ordinal);
        Assert.Contains("score log:", notes, StringComparison.Ordinal);
        Assert.Contains("submitted: final raw score", notes, StringComparison.Ordinal);
        Assert.Contains("terminal closed: attempt ended", notes, StringComparison.Ordinal);

        var client = Platform.Orchestrator();
        var attempt = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId });
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        Assert.Equal("human", attempt.Agent.Name);
        var events = await Waits.EventsAsync(client, attemptId);
        var typed = string.Concat(events.Where(e => e.EventType == "terminal_input_recorded").Select(e => e.Field("Text").GetString()));
        Assert.Contains("echo cli-$((40+2))", typed, StringComparison.Ordinal);
        Assert.DoesNotContain("~", typed, StringComparison.Ordinal); // escapes are the CLI's, never typed into the shell
        Assert.Contains("cli-42", string.Concat(events.Where(e => e.EventType == "terminal_output_recorded").Select(e => e.Field("Text").GetString())), StringComparison.Ordinal);
        Assert.Single(events, e => e.EventType == "attempt_paused");
        Assert.Single(events, e => e.EventType == "attempt_resumed");
        Assert.Single(events, e => e.EventType == "submission_received");

        // The auditor's timeline lists the terminal as the human's actions.
        using var replay = Process.Start(new ProcessStartInfo("dotnet", Cli.Args(Platform, PlatformProcesses.ApiKey, "replay", attemptId, "--kind", "action"))
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var timeline = replay.StandardOutput.ReadToEndAsync();
        var timelineErrors = replay.StandardError.ReadToEndAsync();
        using var replayLimit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await replay.WaitForExitAsync(replayLimit.Token);
        var listed = await timeline + await timelineErrors;
        output.WriteLine($"$ rebench replay {attemptId} --kind action\n{listed}");
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("typed: echo cli-$((40+2))", listed, StringComparison.Ordinal);
        Assert.Contains("shown:", listed, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"attempt ([0-9a-f-]{36}): waiting")]
    private static partial Regex AttemptLine();

    private static async Task<string> StartHumanAttemptAsync(OrchestratorClients client, string name)
    {
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = name, AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "human" } },
        });
        var attemptId = (await client.Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.CampaignId })).Attempts.Single().AttemptId;
        var until = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId });
            if (a.Status == AttemptStatus.Running) return attemptId;
            Assert.True(a.Status == AttemptStatus.Scheduled && DateTime.UtcNow < until, $"attempt {attemptId} is {a.Status}: {a.FailureReason}");
            await Task.Delay(300);
        }
    }

    /// <summary>Opens a terminal and reads it to its end (for calls that are expected to be refused).</summary>
    // The gateway refuses a call without a key from its headers alone. Writing first would race that refusal: the
    // stream can be reset before the write, which then fails as CANCELLED instead of showing the refusal.
    private static async Task ReadWithoutWritingAsync(OrchestratorClients client)
    {
        using var call = client.HumanBaselines.OpenTerminal(deadline: DateTime.UtcNow.AddSeconds(60));
        await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
    }

    private static async Task OpenAndReadAsync(OrchestratorClients client, string attemptId)
    {
        using var call = client.HumanBaselines.OpenTerminal(deadline: DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new HumanTerminalInput { Open = new HumanTerminalOpen { AttemptId = attemptId } });
        await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
    }

    /// <summary>One OpenTerminal call through the gateway: what it shows, and a way to type into it.</summary>
    private sealed class Terminal : IAsyncDisposable
    {
        private readonly AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> _call;
        private readonly StringBuilder _screen = new();
        private readonly Task _reader;

        private Terminal(AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call)
        {
            _call = call;
            _reader = Task.Run(async () =>
            {
                await foreach (var o in _call.ResponseStream.ReadAllAsync())
                    lock (_screen)
                    {
                        if (o.OutputCase == HumanTerminalOutput.OutputOneofCase.Data) _screen.Append(Encoding.UTF8.GetString(o.Data.Span));
                        else Exit = o.Exit;
                    }
            });
        }

        public HumanTerminalExit? Exit { get; private set; }
        private string Screen { get { lock (_screen) return _screen.ToString(); } }

        public static async Task<Terminal> OpenAsync(OrchestratorClients client, string attemptId)
        {
            var t = new Terminal(client.HumanBaselines.OpenTerminal());
            await t._call.RequestStream.WriteAsync(new HumanTerminalInput { Open = new HumanTerminalOpen { AttemptId = attemptId, Rows = 30, Cols = 120 } });
            return t;
        }

        public bool Shows(string text) => Screen.Contains(text, StringComparison.Ordinal);

        public Task TypeAsync(string text) => _call.RequestStream.WriteAsync(new HumanTerminalInput { Stdin = ByteString.CopyFromUtf8(text) });

        public async Task WaitForAsync(string text)
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < until && !_reader.IsCompleted)
            {
                if (Screen.Contains(text, StringComparison.Ordinal)) return;
                await Task.Delay(50);
            }
            Assert.True(Screen.Contains(text, StringComparison.Ordinal), $"'{text}' did not appear on the terminal; it shows:\n{Screen}\n{_reader.Exception}");
        }

        /// <summary>Waits for the call to end (the attempt ended, its environment was destroyed) and returns its exit message.</summary>
        public async Task<HumanTerminalExit?> ExitAsync()
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(60));
            return Exit;
        }

        public async ValueTask DisposeAsync()
        {
            _call.Dispose();
#pragma warning disable VSTHRD003 // this session's own reader loop, started in its constructor
            try { await _reader; } catch (Exception e) when (e is RpcException or OperationCanceledException) { }
#pragma warning restore VSTHRD003
        }
    }
}
