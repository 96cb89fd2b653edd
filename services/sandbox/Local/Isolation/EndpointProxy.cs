using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// Serves an environment's allowed endpoints inside its network namespace with no process of its own there: the
/// listening sockets are created by a short-lived thread of this service that has joined the namespace (setns), so
/// they belong to it, while every connection to the real endpoint is made by the service in the host's namespace.
/// The agent therefore reaches exactly these endpoints, at the addresses <see cref="EndpointPlan"/> chose, and
/// nothing else: its namespace has only <c>lo</c>, and the proxy connects to nothing but the configured target.
/// </summary>
internal sealed class EndpointProxy : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private const int OpenReadOnly = 0, OpenCloseOnExec = 0x80000;
    private const int MaxConnections = 256;
    private readonly List<(Socket Listener, EndpointBinding Binding)> _listeners;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private readonly ILogger _logger;
    private readonly string _environmentId;
    private long _connections;

    private EndpointProxy(List<(Socket, EndpointBinding)> listeners, ILogger logger, string environmentId)
    {
        _listeners = listeners;
        _logger = logger;
        _environmentId = environmentId;
        foreach (var (listener, binding) in _listeners) _ = AcceptLoopAsync(listener, binding);
    }

    /// <summary>Connections forwarded so far (tests and logs).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    public static EndpointProxy Start(string environmentId, int holderPid, IReadOnlyList<EndpointBinding> bindings, ILogger logger)
    {
        foreach (var address in bindings.Where(b => b.AddToLoopback).Select(b => b.Listen).Distinct())
        {
            var prefix = address.AddressFamily == AddressFamily.InterNetworkV6 ? "/128" : "/32";
            RunInNamespace(holderPid, "ip", "addr", "add", address + prefix, "dev", "lo");
        }
        var listeners = new List<(Socket, EndpointBinding)>();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { listeners.AddRange(ListenInNamespace(holderPid, bindings)); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "rebench-netns-listen" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            foreach (var (s, _) in listeners) s.Dispose();
            throw SandboxException.Precondition($"the endpoint proxy for environment {environmentId} could not listen inside its network namespace: {failure.Message}");
        }
        logger.LogInformation("Environment {EnvironmentId}: endpoints {Endpoints} reachable inside through the sandbox proxy",
            environmentId, string.Join(", ", bindings.Select(b => $"{b.Target} at {b.Listen}:{b.Target.Port}")));
        return new EndpointProxy(listeners, logger, environmentId);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var (listener, _) in _listeners) listener.Dispose();
    }

    /// <summary>Runs on a dedicated thread: joins the namespace, creates the sockets, then returns to the host's namespace.</summary>
    private static List<(Socket, EndpointBinding)> ListenInNamespace(int holderPid, IReadOnlyList<EndpointBinding> bindings)
    {
        var own = Open("/proc/thread-self/ns/net");
        var target = Open($"/proc/{holderPid}/ns/net");
        var created = new List<(Socket, EndpointBinding)>();
        try
        {
            if (Setns(target, CloneNewNet) != 0) throw new IOException($"setns into pid {holderPid}'s network namespace failed (errno {Marshal.GetLastPInvokeError()})");
            try
            {
                foreach (var b in bindings)
                {
                    var socket = new Socket(b.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    created.Add((socket, b));
                    socket.Bind(new IPEndPoint(b.Listen, b.Target.Port));
                    socket.Listen(64);
                }
            }
            finally
            {
                // The thread ends right after, but it must never run anything else in the environment's namespace.
                if (Setns(own, CloneNewNet) != 0) Environment.FailFast("could not return to the service's network namespace");
            }
            return created;
        }
        catch
        {
            foreach (var (s, _) in created) s.Dispose();
            throw;
        }
        finally
        {
            // Namespace descriptors: closing them has nothing to flush, so a failure has nothing to report.
            _ = Close(own);
            _ = Close(target);
        }
    }

    private async Task AcceptLoopAsync(Socket listener, EndpointBinding binding)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            if (!await _slots.WaitAsync(0))
            {
                client.Dispose(); // an agent opening connections without end gets refused, not the service's descriptors
                continue;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                try { await ForwardAsync(client, binding.Target); }
                finally { _slots.Release(); }
            });
        }
    }

    private async Task ForwardAsync(Socket client, AllowedEndpoint target)
    {
        using var _ = client;
        using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                connect.CancelAfter(TimeSpan.FromSeconds(30));
                if (target.Address is { } ip) await upstream.ConnectAsync(new IPEndPoint(ip, target.Port), connect.Token);
                else await upstream.ConnectAsync(target.Host, target.Port, connect.Token);
            }
            client.NoDelay = upstream.NoDelay = true;
            await Task.WhenAll(PumpAsync(client, upstream), PumpAsync(upstream, client));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            _logger.LogDebug("Environment {EnvironmentId}: proxied connection to {Target} ended: {Error}", _environmentId, target, e.Message);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send); // pass the half-close on: HTTP/1.0 clients and request bodies rely on it
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side went away: end both directions.
            try { from.Shutdown(SocketShutdown.Both); to.Shutdown(SocketShutdown.Both); } catch (Exception x) when (x is SocketException or ObjectDisposedException) { }
        }
    }

    private static void RunInNamespace(int holderPid, params string[] command)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-t", holderPid.ToString(), "-n", "--" }.Concat(command)) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw SandboxException.Precondition($"{string.Join(' ', command)} in the environment's network namespace failed: {error.Trim()}");
    }

    private static int Open(string path)
    {
        var fd = OpenNative(path, OpenReadOnly | OpenCloseOnExec);
        if (fd < 0) throw new IOException($"cannot open {path} (errno {Marshal.GetLastPInvokeError()})");
        return fd;
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int Setns(int fd, int nstype);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
