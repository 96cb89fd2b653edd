using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using ReBench.Sandbox.Environments;
using ReBench.Sandbox.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Sandbox.Grpc;

/// <summary>The ExecInteractive call: checks the opening message, then pumps input to the driver and output back.</summary>
internal static class InteractiveExecGrpc
{
    public static async Task RunAsync(IEnvironmentDriver driver, IAsyncStreamReader<V1.TerminalInput> requests,
        IServerStreamWriter<TerminalOutput> responses, CancellationToken ct)
    {
        // The shared status-mapping interceptors cover unary and server-streaming calls only.
        try { await RunCheckedAsync(driver, requests, responses, ct); }
        catch (SandboxException e)
        {
            var code = e.Error switch
            {
                SandboxError.InvalidArgument => StatusCode.InvalidArgument,
                SandboxError.NotFound => StatusCode.NotFound,
                SandboxError.PermissionDenied => StatusCode.PermissionDenied,
                SandboxError.ResourceExhausted => StatusCode.ResourceExhausted,
                _ => StatusCode.FailedPrecondition,
            };
            throw new RpcException(new Status(code, e.Message));
        }
    }

    private static async Task RunCheckedAsync(IEnvironmentDriver driver, IAsyncStreamReader<V1.TerminalInput> requests,
        IServerStreamWriter<TerminalOutput> responses, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct)) throw Guard.Invalid("the first message must be open; the stream was empty");
        if (requests.Current.InputCase != V1.TerminalInput.InputOneofCase.Open)
            throw Guard.Invalid($"the first message must be open, got {requests.Current.InputCase}");
        var open = requests.Current.Open;
        Guard.Required(open.EnvironmentId, "open.environment_id");
        if (open.TimeoutSeconds < 0) throw Guard.Invalid($"open.timeout_seconds {open.TimeoutSeconds} is negative");
        var size = TerminalSize.Check(open.Rows, open.Cols);
        var spec = new ExecSpec(open.EnvironmentId, open.Command, open.WorkingDir,
            open.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(open.TimeoutSeconds) : null, open.Env, 0, false, ReadOnlyMemory<byte>.Empty);

        var input = Channel.CreateBounded<Environments.TerminalInput>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = ReadInputAsync(requests, input.Writer, done.Token);
        try
        {
            await foreach (var output in driver.ExecInteractiveAsync(spec, size, input.Reader, ct))
            {
                await responses.WriteAsync(output switch
                {
                    ExecChunk c => new TerminalOutput { Data = UnsafeByteOperations.UnsafeWrap(c.Data) },
                    ExecCompleted x => new TerminalOutput
                    {
                        Exit = new ExecExit { ExitCode = x.ExitCode, TimedOut = x.TimedOut, DurationMs = (long)x.Duration.TotalMilliseconds, OomKilled = x.OomKilled },
                    },
                    _ => throw new InvalidOperationException($"unexpected exec output {output.GetType().Name}"),
                }, ct);
            }
        }
        finally
        {
            await done.CancelAsync();
            try { await reading; } catch (Exception e) when (e is OperationCanceledException or IOException or RpcException) { }
        }
    }

    private static async Task ReadInputAsync(IAsyncStreamReader<V1.TerminalInput> requests, ChannelWriter<Environments.TerminalInput> input, CancellationToken ct)
    {
        try
        {
            while (await requests.MoveNext(ct))
            {
                var m = requests.Current;
                Environments.TerminalInput? next = m.InputCase switch
                {
                    V1.TerminalInput.InputOneofCase.Stdin => new TerminalKeys(m.Stdin.Memory),
                    V1.TerminalInput.InputOneofCase.Resize => new TerminalResized(TerminalSize.Check(m.Resize.Rows, m.Resize.Cols)),
                    V1.TerminalInput.InputOneofCase.Eof => m.Eof ? new TerminalEof() : null,
                    _ => null, // a second open, or nothing: ignored rather than ending a human's session
                };
                if (next is not null) await input.WriteAsync(next, ct);
            }
        }
        catch (SandboxException)
        {
            // A bad resize is dropped; the session goes on.
        }
        finally
        {
            input.TryComplete();
        }
    }
}
