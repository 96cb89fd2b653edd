using System.Threading.Channels;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Terminal;

/// <summary>
/// Turns one terminal session's byte streams into batched, numbered events: input per line (Enter), output at most a
/// second after its first byte or per <see cref="TerminalRecording.MaxOutputBatchBytes"/>. Appends run on one background loop so the
/// human's keystrokes never wait for the database; <see cref="CloseAsync"/> flushes what is left.
/// </summary>
public sealed class TerminalRecorder
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly AttemptStore _attempts;
    private readonly TimeProvider _time;
    private readonly Guid _attemptId;
    private readonly string _sessionId;
    private readonly long _maxOutputBytes;
    private readonly Channel<Item> _incoming = Channel.CreateUnbounded<Item>(new() { SingleReader = true });
    private readonly MemoryStream _input = new();
    private readonly MemoryStream _output = new();
    private readonly Task _loop;
    private int _sequence;
    private long _inputBytes, _outputBytes, _outputKept, _outputDropped;
    /// <summary>When the oldest byte not yet recorded arrived (a timestamp); 0 when nothing waits.</summary>
    private long _pendingSince;

    public TerminalRecorder(AttemptStore attempts, TimeProvider time, Guid attemptId, string sessionId, long maxOutputBytes)
    {
        _attempts = attempts;
        _time = time;
        _attemptId = attemptId;
        _sessionId = sessionId;
        _maxOutputBytes = maxOutputBytes;
        _loop = Task.Run(LoopAsync);
    }

    public void Input(ReadOnlySpan<byte> data) => _incoming.Writer.TryWrite(new Item(true, data.ToArray(), null));

    public void Output(ReadOnlySpan<byte> data) => _incoming.Writer.TryWrite(new Item(false, data.ToArray(), null));

    /// <summary>Writes out what is batched now (after everything received before this call); done at once when closed.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_incoming.Writer.TryWrite(new Item(false, [], done))) return;
        await done.Task.WaitAsync(ct);
    }

    /// <summary>Flushes everything and records the session's end (dropped when the attempt has already ended).</summary>
    public async Task CloseAsync(int exitCode, string reason)
    {
        _incoming.Writer.TryComplete();
#pragma warning disable VSTHRD003 // the recorder's own loop, started in its constructor on the thread pool
        await _loop;
#pragma warning restore VSTHRD003
        await AppendAsync(new TerminalSessionClosed(_attemptId, _sessionId, exitCode, reason, _inputBytes, _outputBytes, _outputDropped, _time.GetUtcNow()));
    }

    private async Task LoopAsync()
    {
        var reader = _incoming.Reader;
        while (true)
        {
            // A batch is written at most FlushInterval after its first byte arrived, even while output keeps coming
            // (a quiet-time rule would hold a steadily printing command's output until the session ends).
            var pending = _pendingSince != 0;
            var wait = pending ? FlushInterval - _time.GetElapsedTime(_pendingSince) : Timeout.InfiniteTimeSpan;
            if (pending && wait <= TimeSpan.Zero)
            {
                await FlushAsync(input: true, all: true);
                await FlushAsync(input: false, all: true);
                continue;
            }
            using var due = pending ? new CancellationTokenSource(wait, _time) : new CancellationTokenSource();
            bool more;
            try { more = await reader.WaitToReadAsync(due.Token); }
            catch (OperationCanceledException) { continue; }
            if (!more) break;
            while (reader.TryRead(out var item))
            {
                if (item.Flushed is { } flushed)
                {
                    await FlushAsync(input: true, all: true);
                    await FlushAsync(input: false, all: true);
                    flushed.TrySetResult();
                }
                else if (item.Input) await AddInputAsync(item.Data);
                else await AddOutputAsync(item.Data);
            }
        }
        await FlushAsync(input: true, all: true);
        await FlushAsync(input: false, all: true);
    }

    /// <summary>Keystrokes or output, or (with <see cref="Flushed"/>) a request to write out the batches.</summary>
    private sealed record Item(bool Input, byte[] Data, TaskCompletionSource? Flushed);

    private async Task AddInputAsync(byte[] data)
    {
        _inputBytes += data.Length;
        foreach (var b in data)
        {
            _input.WriteByte(b);
            if (b is (byte)'\r' or (byte)'\n' || _input.Length >= TerminalRecording.MaxInputBatchBytes) await FlushAsync(input: true, all: true);
        }
        MarkPending();
    }

    private void MarkPending()
    {
        if (_pendingSince == 0 && (_input.Length > 0 || _output.Length > 0)) _pendingSince = _time.GetTimestamp();
    }

    private async Task AddOutputAsync(byte[] data)
    {
        _outputBytes += data.Length;
        var room = (int)Math.Max(0, Math.Min(data.Length, _maxOutputBytes - _outputKept));
        _outputKept += room;
        _outputDropped += data.Length - room;
        var span = data.AsMemory(0, room);
        while (span.Length > 0)
        {
            var take = Math.Min(span.Length, TerminalRecording.MaxOutputBatchBytes - (int)_output.Length);
            _output.Write(span.Span[..take]);
            span = span[take..];
            if (_output.Length >= TerminalRecording.MaxOutputBatchBytes) await FlushAsync(input: false, all: true);
        }
        MarkPending();
    }

    private async Task FlushAsync(bool input, bool all)
    {
        var buffer = input ? _input : _output;
        if (buffer.Length == 0 || !all) return;
        var bytes = buffer.ToArray();
        buffer.SetLength(0);
        if (_input.Length == 0 && _output.Length == 0) _pendingSince = 0;
        var text = StoredText.FromBytes(bytes);
        var sequence = ++_sequence;
        object e = input
            ? new TerminalInputRecorded(_attemptId, _sessionId, sequence, text, bytes.Length, _time.GetUtcNow())
            : new TerminalOutputRecorded(_attemptId, _sessionId, sequence, text, bytes.Length, _time.GetUtcNow());
        await AppendAsync(e);
    }

    private async Task AppendAsync(object e)
    {
        try
        {
            await _attempts.AppendAsync(_attemptId, s => TerminalRecording.Record(s, e), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Recording must not take the human's terminal down; the gap shows as a missing sequence number.
        }
    }
}
