using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using k8s;
using ReBench.Sandbox.Environments;
using ReBench.Sandbox.Local;

namespace ReBench.Sandbox.Kubernetes;

/// <summary>
/// Runs a command in a pod through the exec subresource over WebSocket. Every binary message starts with a channel
/// byte: 0 stdin, 1 stdout, 2 stderr, 3 the final v1.Status (exit code), and in v5.channel.k8s.io 255 = close a
/// channel. v5 (Kubernetes 1.30+) is asked for first; a server that refuses it gets v4, which cannot close stdin,
/// so stdin is always framed by length instead (<c>head -c N</c> in front of the command) and works on both.
/// </summary>
public sealed class PodExec(IKubernetes client, string @namespace)
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";
    private const byte StdinChannel = 0, StdoutChannel = 1, StderrChannel = 2, ErrorChannel = 3, CloseChannel = 255;
    private volatile string? _protocol;

    /// <summary>The subprotocol the server agreed to on the last exec.</summary>
    public string? NegotiatedProtocol => _protocol;

    /// <summary>Streams output as it comes, then one <see cref="ExecCompleted"/>. Timed out = the command exited 124 at or after its timeout.</summary>
    public async IAsyncEnumerable<ExecOutput> RunAsync(string pod, string container, IReadOnlyList<string> argv, ReadOnlyMemory<byte> stdin,
        long maxOutputBytes, TimeSpan timeout, TimeProvider time, [EnumeratorCancellation] CancellationToken ct)
    {
        var command = stdin.IsEmpty ? argv : ["/bin/sh", "-c", "head -c \"$0\" | \"$@\"", stdin.Length.ToString(), .. argv];
        var started = time.GetTimestamp();
        // The command kills itself at its timeout (timeout(1) in argv); this only guards against a silent connection.
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(ct);
        guard.CancelAfter(timeout + TimeSpan.FromSeconds(30));
        using var socket = await ConnectAsync(pod, container, command, !stdin.IsEmpty, guard.Token);
        var events = Channel.CreateUnbounded<ExecOutput>(new() { SingleReader = true });
        var pump = PumpAsync(socket, stdin, maxOutputBytes, started, timeout, time, events.Writer, guard.Token);
        await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None)) yield return e;
        await pump;
    }

    /// <summary>Runs to completion and collects the output (file transfer, small commands).</summary>
    public async Task<(byte[] Stdout, string Stderr, int ExitCode)> CollectAsync(string pod, string container, IReadOnlyList<string> argv,
        ReadOnlyMemory<byte> stdin, long maxOutputBytes, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var exit = -1;
        await foreach (var e in RunAsync(pod, container, argv, stdin, maxOutputBytes, timeout, time, ct))
        {
            if (e is ExecChunk { Stream: OutputStream.Stdout } o) stdout.Write(o.Data.Span);
            else if (e is ExecChunk c) stderr.Write(c.Data.Span);
            else if (e is ExecCompleted done) exit = done.ExitCode;
        }
        return (stdout.ToArray(), System.Text.Encoding.UTF8.GetString(stderr.ToArray()), exit);
    }

    private async Task<WebSocket> ConnectAsync(string pod, string container, IReadOnlyList<string> command, bool withStdin, CancellationToken ct)
    {
        if (_protocol is { } known) return await OpenAsync(pod, container, command, withStdin, known, ct);
        WebSocket? socket = null;
        try
        {
            socket = await OpenAsync(pod, container, command, withStdin, V5, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not SandboxException)
        {
            // An API server before 1.30 refuses the upgrade (403) when offered only v5.
        }
        if (socket is { SubProtocol: V5 })
        {
            _protocol = V5;
            return socket;
        }
        socket?.Dispose(); // accepted without agreeing on v5: the channel framing would be guesswork
        socket = await OpenAsync(pod, container, command, withStdin, V4, ct);
        if (socket.SubProtocol is not (null or V4))
        {
            socket.Dispose();
            throw SandboxException.Precondition($"the API server answered exec with subprotocol '{socket.SubProtocol}', expected {V5} or {V4}");
        }
        _protocol = V4;
        return socket;
    }

    private async Task<WebSocket> OpenAsync(string pod, string container, IReadOnlyList<string> command, bool withStdin, string protocol, CancellationToken ct)
    {
        try
        {
            return await client.WebSocketNamespacedPodExecAsync(
                pod, @namespace, command, container, stderr: true, stdin: withStdin, stdout: true, tty: false,
                webSocketSubProtocol: protocol, cancellationToken: ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw SandboxException.NotFound($"pod {pod} (container {container}) does not exist");
        }
    }

    private async Task PumpAsync(WebSocket socket, ReadOnlyMemory<byte> stdin, long maxOutputBytes, long started, TimeSpan timeout,
        TimeProvider time, ChannelWriter<ExecOutput> events, CancellationToken ct)
    {
        try
        {
            if (!stdin.IsEmpty) await SendStdinAsync(socket, stdin, ct);
            var stdout = new OutputLimiter(maxOutputBytes);
            var stderr = new OutputLimiter(maxOutputBytes);
            var status = new MemoryStream();
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close) break;
                await message.WriteAsync(buffer.AsMemory(0, result.Count), ct);
                if (!result.EndOfMessage) continue;
                var frame = message.ToArray();
                message.SetLength(0);
                if (frame.Length < 1) continue;
                var payload = frame.AsSpan(1);
                switch (frame[0])
                {
                    case StdoutChannel when stdout.Accept(payload) is { Length: > 0 } live: events.TryWrite(new ExecChunk(OutputStream.Stdout, live)); break;
                    case StderrChannel when stderr.Accept(payload) is { Length: > 0 } live: events.TryWrite(new ExecChunk(OutputStream.Stderr, live)); break;
                    case ErrorChannel: status.Write(payload); break;
                }
            }
            foreach (var (stream, limiter) in new[] { (OutputStream.Stdout, stdout), (OutputStream.Stderr, stderr) })
            {
                if (limiter.Tail() is { Length: > 0 } tail) events.TryWrite(new ExecChunk(stream, tail));
            }
            var elapsed = time.GetElapsedTime(started);
            var exitCode = ExitCode(status.ToArray());
            events.TryWrite(new ExecCompleted(exitCode, exitCode == ExecCompleted.TimeoutExitCode && elapsed >= timeout, elapsed,
                stdout.ElidedBytes, stderr.ElidedBytes, OomKilled: false));
            events.TryComplete();
            if (socket.State == WebSocketState.Open || socket.State == WebSocketState.CloseReceived)
            {
                try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); } catch (WebSocketException) { }
            }
        }
        catch (Exception e)
        {
            events.TryComplete(e);
        }
    }

    private async Task SendStdinAsync(WebSocket socket, ReadOnlyMemory<byte> stdin, CancellationToken ct)
    {
        const int chunk = 32 * 1024;
        for (var offset = 0; offset < stdin.Length; offset += chunk)
        {
            var part = stdin.Slice(offset, Math.Min(chunk, stdin.Length - offset));
            var frame = new byte[part.Length + 1];
            frame[0] = StdinChannel;
            part.CopyTo(frame.AsMemory(1));
            await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
        }
        if (_protocol == V5) await socket.SendAsync(new byte[] { CloseChannel, StdinChannel }, WebSocketMessageType.Binary, true, ct);
    }

    /// <summary>
    /// The status on channel 3: {"status":"Success"} is 0; a failure with reason NonZeroExitCode carries the code in
    /// details.causes[reason=ExitCode].message; any other failure (e.g. the executable was not found) is an error.
    /// </summary>
    public static int ExitCode(ReadOnlySpan<byte> statusJson)
    {
        if (statusJson.IsEmpty) throw SandboxException.Precondition("the exec stream ended without an exit status");
        using var doc = JsonDocument.Parse(statusJson.ToArray());
        var root = doc.RootElement;
        var status = root.TryGetProperty("status", out var s) ? s.GetString() : null;
        if (status == "Success") return 0;
        if (root.TryGetProperty("reason", out var reason) && reason.GetString() == "NonZeroExitCode"
            && root.TryGetProperty("details", out var details) && details.TryGetProperty("causes", out var causes))
        {
            foreach (var cause in causes.EnumerateArray())
            {
                if (cause.TryGetProperty("reason", out var r) && r.GetString() == "ExitCode"
                    && cause.TryGetProperty("message", out var m) && int.TryParse(m.GetString(), out var code))
                {
                    return code;
                }
            }
        }
        var message = root.TryGetProperty("message", out var msg) ? msg.GetString() : doc.RootElement.GetRawText();
        throw SandboxException.Precondition($"exec failed: {message}");
    }
}
