using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReBench.ServiceDefaults;

/// <summary>
/// A server a service cannot work without, as its configuration names it: the database (ConnectionStrings:Postgres)
/// and the broker (RabbitMq:Host). A dependency "answers" when its port accepts a TCP connection: that tells an
/// unreachable server from a reachable one without a client library here; a wrong password still fails later, in the
/// client, with its own message.
/// </summary>
public sealed record Dependency(string What, string Setting, string Host, int Port)
{
    public override string ToString() => $"the {What} ({Setting}, {Host}:{Port})";

    /// <summary>The dependencies configured now (read at start, so settings from Dapr apply).</summary>
    public static IReadOnlyList<Dependency> From(IConfiguration config)
    {
        var list = new List<Dependency>();
        if (config.GetConnectionString("Postgres") is { Length: > 0 } cs)
        {
            var b = new DbConnectionStringBuilder { ConnectionString = cs };
            var host = (b.TryGetValue("Host", out var h) || b.TryGetValue("Server", out h)) ? h?.ToString() ?? "" : "";
            // A list of hosts (failover) is tried by the client in turn; the first is the one checked here.
            host = host.Split(',')[0].Trim();
            var port = b.TryGetValue("Port", out var p) && int.TryParse(p?.ToString(), out var n) ? n : 5432;
            if (host.Contains(':') && !host.StartsWith('[') && int.TryParse(host[(host.LastIndexOf(':') + 1)..], out var inline))
            {
                port = inline;
                host = host[..host.LastIndexOf(':')];
            }
            // A Unix socket directory is local and has no port to probe.
            if (host.Length > 0 && !host.StartsWith('/')) list.Add(new("database", "ConnectionStrings:Postgres", host, port));
        }
        if (config["RabbitMq:Host"] is { Length: > 0 } rmq)
        {
            var port = int.TryParse(config["RabbitMq:Port"], out var p) ? p : 5672;
            list.Add(new("broker", "RabbitMq:Host", rmq, port));
        }
        return list;
    }

    public async Task<string?> ProblemAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient(Host.Contains(':') ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
            await client.ConnectAsync(Host.Trim('[', ']'), Port, cts.Token);
            return null;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode.ToString();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "no answer";
        }
    }
}

/// <summary>
/// At start, waits up to Startup:DependencyTimeoutSeconds (default 60) for every <see cref="Dependency"/>; one that
/// does not answer stops the start with a <see cref="StartupException"/> naming it, so the process exits non-zero
/// (an orchestrator restarts it) rather than serving half-configured. <see cref="ServiceMain"/> puts it before every
/// other hosted service (Kestrel, the schema migration, the bus), so nothing listens until the dependencies answer
/// and no client library's failure names the cause less plainly; once running, <see cref="DependencyHealthCheck"/>
/// keeps readiness in step with them.
/// </summary>
internal sealed class DependencyStartupCheck(IConfiguration config, ILogger<DependencyStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(config.GetValue("Startup:DependencyTimeoutSeconds", 60));
        var deadline = DateTime.UtcNow + timeout;
        foreach (var d in Dependency.From(config))
        {
            while (true)
            {
                var problem = await d.ProblemAsync(TimeSpan.FromSeconds(2), ct);
                if (problem is null) break;
                if (DateTime.UtcNow >= deadline)
                    throw new StartupException($"{d} did not answer within {timeout.TotalSeconds:0} s ({problem})");
                logger.LogWarning("Waiting for {Dependency}: {Problem}", d.ToString(), problem);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Readiness: unhealthy while a dependency does not answer (gRPC health NOT_SERVING on the "" service).</summary>
internal sealed class DependencyHealthCheck(IConfiguration config) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var problems = new List<string>();
        foreach (var d in Dependency.From(config))
        {
            if (await d.ProblemAsync(TimeSpan.FromSeconds(2), ct) is { } p) problems.Add($"{d}: {p}");
        }
        return problems.Count == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(string.Join("; ", problems));
    }
}
