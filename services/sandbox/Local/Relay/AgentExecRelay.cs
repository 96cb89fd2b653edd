using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ReBench.Sandbox.Environments;
using ReBench.Sandbox.Local.Isolation;

namespace ReBench.Sandbox.Local.Relay;

/// <summary>
/// Lets a scorer run the agent's code with the agent's rights only. A scorer run has the group that reads the
/// protected area, and whatever it starts inherits it; a scorer that runs the submission (LLM Foundry's finetune.sh,
/// a Rust solver module) would hand that right to the code it is judging, which could then copy reference weights or
/// read held-out tests. Upstream scorers run as root and drop to the agent user; ours cannot switch users, so the
/// sandbox does it for them: each environment has a Unix socket (<c>&lt;env&gt;/relay/agent-exec.sock</c>, root:protected
/// 0660 in a 0750 directory, so only scorer runs reach it) and a client (<c>$REBENCH_AGENT_EXEC</c>) that asks the
/// service to run a command as an ordinary agent Exec in the same environment and relays its output and exit code.
/// The agent gains nothing from it: it runs commands with those rights anyway.
/// </summary>
internal sealed class AgentExecRelay(
    Func<ExecSpec, CancellationToken, IAsyncEnumerable<ExecOutput>> exec, Action<string> ownForScorer, ILogger logger) : IDisposable
{
    public const string DirectoryName = "relay";
    public const string ClientName = "agent-exec";
    private const string SocketName = "agent-exec.sock";
    private const int MaxRequestBytes = 16 * 1024 * 1024;
    /// <summary>A client that connects and never finishes its request line is dropped after this.</summary>
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, Listener> _listeners = new();

    private sealed record Listener(Socket Socket, CancellationTokenSource Stopping);

    public static string ClientPath(LocalEnvironment environment) => Path.Combine(environment.Directory, DirectoryName, ClientName);

    public bool Serves(LocalEnvironment environment) => _listeners.ContainsKey(environment.Id);

    /// <summary>Listens for the environment's scorer runs; environments created before the relay existed have no directory and get none.</summary>
    public void Start(LocalEnvironment environment)
    {
        var dir = Path.Combine(environment.Directory, DirectoryName);
        if (!Directory.Exists(dir)) return;
        Stop(environment.Id);
        var client = Path.Combine(dir, ClientName);
        File.WriteAllText(client, AgentExecClient.Script);
        File.SetUnixFileMode(client, (UnixFileMode)0b111_101_000);
        ownForScorer(client);
        var socketPath = Path.Combine(dir, SocketName);
        File.Delete(socketPath); // left by a service that stopped
        // A socket path holds at most 108 bytes and environment paths can be longer: bind through the directory's
        // descriptor (/proc/self/fd/N/name), which names the same place in a few bytes.
        var dirFd = Native.Open(dir, Native.OpenDirectoryPath);
        if (dirFd < 0) throw new IOException($"cannot open {dir}: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint($"/proc/self/fd/{dirFd}/{SocketName}"));
            File.SetUnixFileMode(socketPath, (UnixFileMode)0b110_110_000);
            ownForScorer(socketPath);
            socket.Listen(16);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            _ = Native.Close(dirFd); // an O_PATH descriptor: closing it has nothing to flush, so nothing to report
        }
        var listener = new Listener(socket, new CancellationTokenSource());
        _listeners[environment.Id] = listener;
        _ = AcceptAsync(environment.Id, listener);
    }

    public void Stop(string environmentId)
    {
        if (!_listeners.TryRemove(environmentId, out var listener)) return;
        listener.Stopping.Cancel();
        listener.Socket.Dispose();
        listener.Stopping.Dispose();
    }

    public void Dispose()
    {
        foreach (var id in _listeners.Keys) Stop(id);
    }

    private async Task AcceptAsync(string environmentId, Listener listener)
    {
        var stopping = listener.Stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket connection;
            try { connection = await listener.Socket.AcceptAsync(stopping); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = ServeAsync(environmentId, connection, stopping);
        }
    }

    private async Task ServeAsync(string environmentId, Socket connection, CancellationToken stopping)
    {
        using var owned = connection;
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            string line;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
            {
                deadline.CancelAfter(RequestDeadline);
                try { line = await ReadLineAsync(stream, deadline.Token); }
                catch (OperationCanceledException) when (!cts.IsCancellationRequested)
                {
                    throw SandboxException.Invalid($"no complete request line within {RequestDeadline.TotalSeconds:F0} s");
                }
            }
            var spec = AgentExecRequest.Parse(environmentId, line);
            // The scorer that asked has gone (killed at its own timeout, say): the command must not outlive it.
            _ = CancelWhenClosedAsync(stream, cts);
            await foreach (var output in exec(spec, cts.Token))
            {
                switch (output)
                {
                    case ExecChunk chunk:
                        await WriteFrameAsync(stream, chunk.Stream == OutputStream.Stdout ? (byte)'o' : (byte)'e', chunk.Data, cts.Token);
                        break;
                    case ExecCompleted done:
                        var exit = JsonSerializer.SerializeToUtf8Bytes(new
                        {
                            exit_code = done.ExitCode, timed_out = done.TimedOut, duration_ms = (long)done.Duration.TotalMilliseconds,
                            oom_killed = done.OomKilled, stdout_elided_bytes = done.StdoutElidedBytes, stderr_elided_bytes = done.StderrElidedBytes,
                        });
                        await WriteFrameAsync(stream, (byte)'x', exit, cts.Token);
                        break;
                }
            }
        }
        catch (SandboxException e)
        {
            await TryFailAsync(stream, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The scorer went away or the environment is being destroyed; the Exec was cancelled with it.
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Environment {EnvironmentId}: an agent-exec request failed", environmentId);
            await TryFailAsync(stream, $"the sandbox could not run the command: {e.Message}");
        }
    }

    /// <summary>The request line; the client sends nothing after it (it only waits for frames).</summary>
    private static async Task<string> ReadLineAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, ct);
            if (n == 0) throw SandboxException.Invalid("the request ended before its newline");
            var newline = Array.IndexOf(chunk, (byte)'\n', 0, n);
            await buffer.WriteAsync(chunk.AsMemory(0, newline < 0 ? n : newline), ct);
            if (buffer.Length > MaxRequestBytes) throw SandboxException.Invalid($"the request is longer than {MaxRequestBytes} bytes");
            if (newline >= 0) return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    private static async Task CancelWhenClosedAsync(NetworkStream stream, CancellationTokenSource cts)
    {
        var sink = new byte[256];
        try
        {
            while (await stream.ReadAsync(sink, cts.Token) > 0) { /* nothing more is expected; ignore it */ }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { return; }
        try { await cts.CancelAsync(); } catch (ObjectDisposedException) { }
    }

    private static async Task WriteFrameAsync(NetworkStream stream, byte type, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var header = new byte[5];
        header[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), payload.Length);
        await stream.WriteAsync(header, ct);
        await stream.WriteAsync(payload, ct);
    }

    private static async Task TryFailAsync(NetworkStream stream, string message)
    {
        try { await WriteFrameAsync(stream, (byte)'f', JsonSerializer.SerializeToUtf8Bytes(new { error = message }), CancellationToken.None); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }
}
