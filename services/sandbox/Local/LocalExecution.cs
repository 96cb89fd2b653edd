using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local;

/// <summary>
/// One running command. It runs under setsid, so bash leads a fresh session and process group (pgid = its pid) that
/// its children, backgrounded ones included, share; killing that group takes the whole tree down.
/// </summary>
internal sealed class LocalExecution
{
    private readonly Process _process;
    private readonly LocalEnvironment _environment;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _drain;
    private readonly long _maxOutputBytes;
    private readonly ReadOnlyMemory<byte> _stdin;
    private readonly Func<bool> _oomKilled;
    private readonly Channel<ExecOutput> _events = Channel.CreateUnbounded<ExecOutput>(new() { SingleReader = true });

    public LocalExecution(ProcessStartInfo startInfo, LocalEnvironment environment, TimeProvider time, TimeSpan timeout,
        TimeSpan drain, long maxOutputBytes, ReadOnlyMemory<byte> stdin, Func<bool> oomKilled)
    {
        _process = new Process { StartInfo = startInfo };
        _environment = environment;
        _time = time;
        _timeout = timeout;
        _drain = drain;
        _maxOutputBytes = maxOutputBytes;
        _stdin = stdin;
        _oomKilled = oomKilled;
    }

    /// <summary>When bash exits, kill what is left in its process group (background jobs of judged code).</summary>
    public bool KillGroupOnExit { get; init; }

    public async IAsyncEnumerable<ExecOutput> RunAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        _process.Start();
        var pgid = _process.Id;
        _environment.Track(pgid);
        // Destroy may have swept the environment between our check and the start; do not outlive it.
        if (_environment.Destroyed) ProcessKiller.KillGroup(pgid);
        var supervisor = SuperviseAsync(started, ct);
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
                // An abandoned enumeration (client gone, call cancelled) must not leave the command running.
                ProcessKiller.KillTree(pgid);
                try { await supervisor; } catch (Exception) { /* the caller already has its own error */ }
            }
            _environment.ForgetIfEmpty(pgid);
            _process.Dispose();
        }
    }

    private async Task SuperviseAsync(long started, CancellationToken ct)
    {
        try
        {
            var stdout = new OutputLimiter(_maxOutputBytes);
            var stderr = new OutputLimiter(_maxOutputBytes);
            using var pumpCts = new CancellationTokenSource();
            var pumps = Task.WhenAll(
                PumpAsync(_process.StandardOutput.BaseStream, OutputStream.Stdout, stdout, pumpCts.Token),
                PumpAsync(_process.StandardError.BaseStream, OutputStream.Stderr, stderr, pumpCts.Token));
            _ = FeedStdinAsync();

            var timedOut = await WaitForExitAsync(ct);
            if (KillGroupOnExit) ProcessKiller.KillGroupMembers(_process.Id);
            // Background children may hold the pipes open; give their output a moment (also after a cancel: not ct), then stop listening.
            if (await Task.WhenAny(pumps, Task.Delay(_drain, _time, CancellationToken.None)) != pumps) await pumpCts.CancelAsync();
            await pumps;

            foreach (var (stream, limiter) in new[] { (OutputStream.Stdout, stdout), (OutputStream.Stderr, stderr) })
            {
                if (limiter.Tail() is { Length: > 0 } tail) _events.Writer.TryWrite(new ExecChunk(stream, tail));
            }
            _events.Writer.TryWrite(new ExecCompleted(
                timedOut ? ExecCompleted.TimeoutExitCode : _process.ExitCode,
                timedOut,
                _time.GetElapsedTime(started),
                stdout.ElidedBytes,
                stderr.ElidedBytes,
                OomKilled: _oomKilled()));
            _events.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _events.Writer.TryComplete(e);
            throw;
        }
    }

    /// <summary>Waits for bash to exit; on timeout or cancellation kills its tree. Returns whether it timed out.</summary>
    private async Task<bool> WaitForExitAsync(CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ct);
        try
        {
            await _process.WaitForExitAsync(linked.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            ProcessKiller.KillTree(_process.Id);
            await _process.WaitForExitAsync(CancellationToken.None);
            return !ct.IsCancellationRequested;
        }
    }

    private async Task PumpAsync(Stream pipe, OutputStream stream, OutputLimiter limiter, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await pipe.ReadAsync(buffer, ct)) > 0)
            {
                if (limiter.Accept(buffer.AsSpan(0, n)) is { Length: > 0 } live) _events.Writer.TryWrite(new ExecChunk(stream, live));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The drain period ended with the pipe still held open by a background process.
        }
    }

    private async Task FeedStdinAsync()
    {
        var stdin = _process.StandardInput.BaseStream;
        try
        {
            if (!_stdin.IsEmpty) await stdin.WriteAsync(_stdin);
        }
        catch (IOException)
        {
            // The command exited or closed stdin without reading all of it; that is its choice.
        }
        finally
        {
            try { await stdin.DisposeAsync(); } catch (IOException) { }
        }
    }
}
