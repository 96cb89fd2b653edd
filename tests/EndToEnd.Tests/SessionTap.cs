using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Sits between the agents service and the gateway's internal listener (the agents' Services:Session points here) and
/// forwards every call unchanged, remembering the session credential each attempt's driver sent. It plays the part
/// of someone who has learned a credential (another attempt's driver, an observer of the cluster network), so tests
/// can try one attempt's credential on another, a replaced one after a relaunch, or an attempt's own after it ended.
/// </summary>
public sealed class SessionTap : IAsyncDisposable
{
    private const string Header = "x-rebench-session";
    private readonly ConcurrentDictionary<string, List<string>> _seen = new(StringComparer.OrdinalIgnoreCase);
    private WebApplication? _app;

    public int Port { get; } = Testing.TestEnv.FreePort();

    public async Task StartAsync(int target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddHttpForwarder();
        _app = builder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false,
            EnableMultipleHttp2Connections = true,
        });
        var config = new ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var destination = $"http://127.0.0.1:{target}/";
        _app.Map("/{**rest}", async (HttpContext context, IHttpForwarder forwarder) =>
        {
            await RememberAsync(context);
            await forwarder.SendAsync(context, destination, invoker, config);
        });
        await _app.StartAsync();
    }

    /// <summary>The credentials seen for the attempt, oldest first (a relaunch adds one).</summary>
    public IReadOnlyList<string> CredentialsOf(string attemptId)
    {
        if (!_seen.TryGetValue(attemptId, out var list)) return [];
        lock (list) return [.. list];
    }

    private async Task RememberAsync(HttpContext context)
    {
        var credential = context.Request.Headers[Header].ToString();
        if (credential.Length == 0) return;
        // Every AttemptSession request has attempt_id as field 1: after the 5-byte gRPC frame header come the tag 0x0A,
        // a one-byte length (36 for a UUID) and the id itself.
        context.Request.EnableBuffering();
        var head = new byte[5 + 2 + 36];
        var read = 0;
        while (read < head.Length && await context.Request.Body.ReadAsync(head.AsMemory(read)) is var n and > 0) read += n;
        context.Request.Body.Position = 0;
        if (read < head.Length || head[5] != 0x0A || head[6] != 36) return;
        var attemptId = Encoding.ASCII.GetString(head, 7, 36);
        var list = _seen.GetOrAdd(attemptId, _ => []);
        lock (list) if (!list.Contains(credential)) list.Add(credential);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
