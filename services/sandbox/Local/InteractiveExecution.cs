using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local;

/// <summary>
/// One command running under a pseudo-terminal (see <see cref="LocalEnvironmentDriver.ExecInteractiveAsync"/>). Input
/// is pumped from the caller's channel to script's stdin, the terminal's output streamed back unlimited (the caller
/// decides what to keep). script's child runs in a session of its own, so ending the call kills the tree by walking
/// /proc from the exec's process down, then its group.
/// </summary>
internal sealed partial class InteractiveExecution(
    ProcessStartInfo startInfo,
    LocalEnvironment environment,
    TimeProvider time,
    TimeSpan timeout,
    ChannelReader<TerminalInput> input,
    Func<string, TerminalSize, CancellationToken, Task> resize,
    Func<bool> oomKilled)
{
    private readonly Process _process = new() { StartInfo = startInfo };
    private readonly Channel<ExecOutput> _events = Channel.CreateUnbounded<ExecOutput>(new() { SingleReader = true });
    private readonly TaskCompletionSource<string?> _tty = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex(@"^/dev/pts/[0-9]+$")]
    private static partial Regex TtyPattern();

    public async IAsyncEnumerable<ExecOutput> RunAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var started = time.GetTimestamp();
        _process.Start();
        var pgid = _process.Id;
        environment.Track(pgid);
        if (environment.Destroyed) KillTree(pgid);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var supervisor = SuperviseAsync(started, stop.Token);
        var finished = false;
        try
        {
            await foreach (var e in _events.Reader.ReadAllAsync(ct)) yield return e;
            await supervisor;
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                KillTree(pgid);
                await stop.CancelAsync();
                try { await supervisor; } catch (Exception) { /* the caller already has its own error */ }
            }
            environment.ForgetIfEmpty(pgid);
            _process.Dispose();
        }
    }

    private async Task SuperviseAsync(long started, CancellationToken ct)
    {
        try
        {
            using var pumpsDone = new CancellationTokenSource();
            var output = PumpOutputAsync(_process.StandardOutput.BaseStream);
            var errors = ReadTtyAsync(_process.StandardError.BaseStream);
            var feeding = FeedInputAsync(pumpsDone.Token);

            var timedOut = false;
            using (var limit = new CancellationTokenSource(timeout, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, ct))
            {
                try { await _process.WaitForExitAsync(linked.Token); }
                catch (OperationCanceledException)
                {
                    KillTree(_process.Id);
                    await _process.WaitForExitAsync(CancellationToken.None);
                    timedOut = !ct.IsCancellationRequested;
                }
            }
            // When script exits the pty is gone; what its pipes still hold arrives promptly (also after a cancel: not ct).
            await Task.WhenAny(Task.WhenAll(output, errors), Task.Delay(TimeSpan.FromSeconds(2), time, CancellationToken.None));
            await pumpsDone.CancelAsync();
            try { await feeding; } catch (OperationCanceledException) { }
            KillTree(_process.Id); // anything the command left in its terminal session
            _events.Writer.TryWrite(new ExecCompleted(
                timedOut ? ExecCompleted.TimeoutExitCode : _process.ExitCode, timedOut, time.GetElapsedTime(started), 0, 0, oomKilled()));
            _events.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _events.Writer.TryComplete(e);
            throw;
        }
    }

    private async Task PumpOutputAsync(Stream pipe)
    {
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await pipe.ReadAsync(buffer)) > 0) _events.Writer.TryWrite(new ExecChunk(OutputStream.Stdout, buffer.AsSpan(0, n).ToArray()));
    }

    /// <summary>The first line on stderr is the tty (see the wrapper); anything else (script's own errors) is passed on.</summary>
    private async Task ReadTtyAsync(Stream pipe)
    {
        var buffer = new byte[4096];
        var line = new StringBuilder();
        int n;
        try
        {
            while ((n = await pipe.ReadAsync(buffer)) > 0)
            {
                if (_tty.Task.IsCompleted)
                {
                    _events.Writer.TryWrite(new ExecChunk(OutputStream.Stderr, buffer.AsSpan(0, n).ToArray()));
                    continue;
                }
                line.Append(Encoding.UTF8.GetString(buffer, 0, n));
                var text = line.ToString();
                if (text.IndexOf('\n') is var nl and >= 0)
                {
                    var tty = text[..nl].Trim();
                    _tty.TrySetResult(TtyPattern().IsMatch(tty) ? tty : null);
                    if (text[(nl + 1)..] is { Length: > 0 } rest) _events.Writer.TryWrite(new ExecChunk(OutputStream.Stderr, Encoding.UTF8.GetBytes(rest)));
                    if (!TtyPattern().IsMatch(tty)) _events.Writer.TryWrite(new ExecChunk(OutputStream.Stderr, Encoding.UTF8.GetBytes(text[..(nl + 1)])));
                }
            }
        }
        finally
        {
            _tty.TrySetResult(null);
        }
    }

    private async Task FeedInputAsync(CancellationToken ct)
    {
        var stdin = _process.StandardInput.BaseStream;
        try
        {
            await foreach (var message in input.ReadAllAsync(ct))
            {
                switch (message)
                {
                    case TerminalKeys keys:
                        await stdin.WriteAsync(keys.Data, ct);
                        await stdin.FlushAsync(ct);
                        break;
                    case TerminalResized resized:
#pragma warning disable VSTHRD003 // the execution's own signal (RunContinuationsAsynchronously), set by its output reader
                        if (await _tty.Task is not { } tty) break;
#pragma warning restore VSTHRD003
                        try { await resize(tty, resized.Size, ct); }
                        catch (SandboxException) { /* the environment is going away; nothing to resize */ }
                        break;
                    case TerminalEof:
                        return;
                }
            }
        }
        catch (IOException)
        {
            // The command exited; further input has nowhere to go.
        }
        finally
        {
            // script passes end-of-file on to the terminal, and an interactive shell exits on it.
            try { await stdin.DisposeAsync(); } catch (IOException) { }
        }
    }

    /// <summary>script's child leads its own session, so the group alone would miss it.</summary>
    private static void KillTree(int root) => ProcessKiller.KillTree(root);
}
