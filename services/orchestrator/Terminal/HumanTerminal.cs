using Google.Protobuf;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;
using SandboxV1 = ReBench.Sandbox.V1;

namespace ReBench.Orchestrator.Terminal;

/// <summary>
/// OpenTerminal: a human's terminal into a `human` attempt's environment. Proxies to the sandbox's ExecInteractive
/// (same isolation as an agent's commands: the agent user inside the environment's namespaces) and records what is
/// typed and shown through a <see cref="TerminalRecorder"/>. The call ends when the shell exits, the human leaves, or
/// the attempt ends (its environment is destroyed, which ends the shell).
/// </summary>
public sealed class HumanTerminal(
    AttemptStore attempts,
    TerminalSessions sessions,
    SandboxV1.Sandbox.SandboxClient sandbox,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<HumanTerminal> logger)
{
    private long MaxOutputBytes => options.Value.TerminalMaxOutputBytesPerSession;

    public async Task RunAsync(IAsyncStreamReader<HumanTerminalInput> requests, IServerStreamWriter<HumanTerminalOutput> responses,
        string principal, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct)) throw Guard.Invalid("the first message must be open; the stream was empty");
        if (requests.Current.InputCase != HumanTerminalInput.InputOneofCase.Open)
            throw Guard.Invalid($"the first message must be open, got {requests.Current.InputCase}");
        var open = requests.Current.Open;
        var attemptId = Guard.Id(open.AttemptId, "open.attempt_id");
        if (open.Rows is < 0 or > 1000 || open.Cols is < 0 or > 1000)
            throw Guard.Invalid($"open.rows/cols {open.Rows}x{open.Cols} must be between 0 and 1000");
        var state = await HumanAttempts.RequireRunningAsync(attempts, attemptId, ct);

        var sessionId = Guid.NewGuid().ToString("N")[..12];
        using var call = sandbox.ExecInteractive(cancellationToken: ct);
        await call.RequestStream.WriteAsync(new SandboxV1.TerminalInput
        {
            Open = new SandboxV1.TerminalOpen { EnvironmentId = state.EnvironmentId, Rows = open.Rows, Cols = open.Cols },
        }, ct);
        await attempts.AppendAsync(attemptId, s => TerminalRecording.Record(s,
            new TerminalSessionOpened(attemptId, sessionId, open.Rows == 0 ? 24 : open.Rows, open.Cols == 0 ? 80 : open.Cols, principal, time.GetUtcNow())), ct);
        logger.LogInformation("Terminal {Session} opened on attempt {Attempt} by {Principal}", sessionId, attemptId, principal);

        var recorder = new TerminalRecorder(attempts, time, attemptId, sessionId, MaxOutputBytes);
        using var registration = sessions.Register(attemptId, recorder);
        var exitCode = -1;
        var reason = "the human left";
        using var inputDone = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var forwarding = ForwardInputAsync(requests, call.RequestStream, recorder, inputDone.Token);
        try
        {
            await foreach (var output in call.ResponseStream.ReadAllAsync(ct))
            {
                if (output.OutputCase == SandboxV1.TerminalOutput.OutputOneofCase.Data)
                {
                    recorder.Output(output.Data.Span);
                    await responses.WriteAsync(new HumanTerminalOutput { Data = output.Data }, ct);
                }
                else if (output.OutputCase == SandboxV1.TerminalOutput.OutputOneofCase.Exit)
                {
                    exitCode = output.Exit.ExitCode;
                    var now = await attempts.LoadAsync(attemptId, CancellationToken.None);
                    reason = now.Phase == AttemptPhase.Running ? "shell exited" : "attempt ended";
                    await responses.WriteAsync(new HumanTerminalOutput { Exit = new HumanTerminalExit { ExitCode = exitCode, Reason = reason } }, ct);
                }
            }
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound && !ct.IsCancellationRequested)
        {
            reason = "attempt ended";
            await responses.WriteAsync(new HumanTerminalOutput { Exit = new HumanTerminalExit { ExitCode = exitCode, Reason = reason } }, ct);
        }
        finally
        {
            await inputDone.CancelAsync();
            try { await forwarding; } catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException) { }
            await recorder.CloseAsync(exitCode, reason);
            logger.LogInformation("Terminal {Session} on attempt {Attempt} closed: {Reason}", sessionId, attemptId, reason);
        }
    }

    private static async Task ForwardInputAsync(IAsyncStreamReader<HumanTerminalInput> requests,
        IClientStreamWriter<SandboxV1.TerminalInput> sandboxInput, TerminalRecorder recorder, CancellationToken ct)
    {
        while (await requests.MoveNext(ct))
        {
            var m = requests.Current;
            switch (m.InputCase)
            {
                case HumanTerminalInput.InputOneofCase.Stdin:
                    recorder.Input(m.Stdin.Span);
                    await sandboxInput.WriteAsync(new SandboxV1.TerminalInput { Stdin = m.Stdin }, ct);
                    break;
                case HumanTerminalInput.InputOneofCase.Resize:
                    await sandboxInput.WriteAsync(new SandboxV1.TerminalInput { Resize = new SandboxV1.TerminalResize { Rows = m.Resize.Rows, Cols = m.Resize.Cols } }, ct);
                    break;
                case HumanTerminalInput.InputOneofCase.Eof when m.Eof:
                    await sandboxInput.WriteAsync(new SandboxV1.TerminalInput { Eof = true }, ct);
                    break;
            }
        }
        await sandboxInput.CompleteAsync();
    }
}
