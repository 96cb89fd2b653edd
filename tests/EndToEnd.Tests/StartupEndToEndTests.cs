using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReBench.EndToEnd.Tests.FakeDapr;
using ReBench.Testing;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Issue 21: start-up as a deployment sees it, against single services started as processes beside the shared
/// platform. Keys come from a Dapr secret store where Dapr:Enabled (a loopback server speaking the sidecar's gRPC
/// secret API stands in for it); a missing secret or key file, or an unreachable database or broker, ends the process
/// with exit code 2 and one line naming the cause; while a dependency of a running service does not answer, readiness
/// (gRPC health, service "") is NOT_SERVING and liveness (service "live") SERVING. Controls: the same service with
/// the secret present serving, and readiness SERVING while the broker answers.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class StartupEndToEndTests(PlatformProcesses platform) : PlatformTest(platform)
{
    internal const string Store = "rebench-secrets";

    [Fact]
    public async Task A_platform_key_read_from_the_Dapr_secret_store_signs_and_checks_service_tokens()
    {
        await using var dapr = await FakeDaprSidecar.StartAsync(new() { ["rebench-keys"] = new() { ["platform-key"] = TestPlatformKey.Key } });
        await using var scoring = ServiceProcess.Start("scoring", ScoringSettings(Platform, DaprSettings(dapr.Port, ("Platform:Key", "rebench-keys", "platform-key"))));
        await scoring.WaitListeningAsync();

        // The process has no key but the secret's: a token signed with it is accepted, and a call without one refused.
        using var signed = TestPlatformKey.Channel(scoring.Address);
        var tasks = await new Scoring.V1.Scoring.ScoringClient(signed).ListTasksAsync(new Scoring.V1.ListTasksRequest());
        Assert.NotEmpty(tasks.Tasks);
        using var bare = Grpc.Net.Client.GrpcChannel.ForAddress(scoring.Address);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new Scoring.V1.Scoring.ScoringClient(bare).ListTasksAsync(new Scoring.V1.ListTasksRequest()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains((Store, "rebench-keys"), dapr.Requests);
    }

    [Fact]
    public async Task A_secret_missing_from_the_Dapr_store_stops_the_service_naming_it()
    {
        await using var dapr = await FakeDaprSidecar.StartAsync(new() { ["rebench-keys"] = new() { ["platform-key"] = TestPlatformKey.Key } });
        await using var scoring = ServiceProcess.Start("scoring", ScoringSettings(Platform, DaprSettings(dapr.Port,
            ("Platform:Key", "rebench-keys", "platform-key"), ("Audit:SigningKey", "audit-signing-key", ""))));

        var (code, output) = await scoring.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains("scoring: cannot start: Dapr secret 'audit-signing-key' (for Audit:SigningKey, store 'rebench-secrets') could not be read: the store answered NotFound", output);
        Assert.DoesNotContain(TestPlatformKey.Key, output);
    }

    [Fact]
    public async Task A_missing_key_file_stops_the_service_naming_the_setting()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"rebench-no-key-{Guid.NewGuid():N}");
        await using var gateway = ServiceProcess.Start("gateway", new()
        {
            ["Platform__KeyFile"] = missing, ["Gateway__InternalPort"] = TestEnv.FreePort().ToString(), ["Gateway__ApiKeys__0"] = "startup-test-key",
        });

        var (code, output) = await gateway.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains($"gateway: cannot start: InvalidOperationException: Platform:KeyFile: cannot read the key file {missing}", output);
    }

    [Fact]
    public async Task An_unreachable_database_stops_the_service_naming_it()
    {
        var deadPort = TestEnv.FreePort();
        var settings = OrchestratorSettings();
        settings["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={deadPort};Username=postgres;Database=postgres";
        settings["Startup__DependencyTimeoutSeconds"] = "3";
        await using var orchestrator = ServiceProcess.Start("orchestrator", settings);

        var (code, output) = await orchestrator.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains($"orchestrator: cannot start: the database (ConnectionStrings:Postgres, 127.0.0.1:{deadPort}) did not answer within 3 s", output);
    }

    [Fact]
    public async Task Readiness_is_not_serving_while_the_broker_does_not_answer_and_serving_again_once_it_does()
    {
        // The broker through a relay the test can cut: the service sees its broker go away and come back.
        await using var relay = TcpRelay.Start(TestEnv.RabbitPort);
        var settings = OrchestratorSettings();
        settings["RabbitMq__Port"] = relay.Port.ToString();
        await using var orchestrator = ServiceProcess.Start("orchestrator", settings);
        await orchestrator.WaitListeningAsync();
        using var channel = TestPlatformKey.Channel(orchestrator.Address);
        var health = new Health.HealthClient(channel);
        var ready = new HealthCheckRequest();
        var live = new HealthCheckRequest { Service = "live" };
        // Control: with the broker reachable the service becomes ready.
        await WaitForStatusAsync(health, ready, HealthCheckResponse.Types.ServingStatus.Serving);

        relay.Stop();
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(ready)).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(live)).Status);

        relay.Resume();
        await WaitForStatusAsync(health, ready, HealthCheckResponse.Types.ServingStatus.Serving);
    }

    private static async Task WaitForStatusAsync(Health.HealthClient health, HealthCheckRequest request, HealthCheckResponse.Types.ServingStatus wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HealthCheckResponse.Types.ServingStatus last;
        do
        {
            last = (await health.CheckAsync(request)).Status;
            if (last == wanted) return;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"health of '{request.Service}' stayed {last}, expected {wanted}");
    }

    [Fact]
    public async Task An_unreachable_broker_stops_the_service_naming_it()
    {
        var deadPort = TestEnv.FreePort();
        var settings = OrchestratorSettings();
        settings["RabbitMq__Port"] = deadPort.ToString();
        settings["Startup__DependencyTimeoutSeconds"] = "3";
        await using var orchestrator = ServiceProcess.Start("orchestrator", settings);

        var (code, output) = await orchestrator.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains($"orchestrator: cannot start: the broker (RabbitMq:Host, 127.0.0.1:{deadPort}) did not answer within 3 s", output);
    }

    internal static Dictionary<string, string> DaprSettings(int port, params (string Setting, string Secret, string Key)[] secrets)
    {
        var env = new Dictionary<string, string>
        {
            ["Dapr__Enabled"] = "true",
            ["Dapr__GrpcEndpoint"] = $"http://127.0.0.1:{port}",
            ["Dapr__SecretStore"] = Store,
            ["Dapr__StartupTimeoutSeconds"] = "5",
        };
        for (var i = 0; i < secrets.Length; i++)
        {
            env[$"Dapr__Secrets__{i}__Setting"] = secrets[i].Setting;
            env[$"Dapr__Secrets__{i}__Secret"] = secrets[i].Secret;
            env[$"Dapr__Secrets__{i}__Key"] = secrets[i].Key;
        }
        return env;
    }

    /// <summary>Scoring without a results store (no database or broker): only the keys matter here.</summary>
    internal static Dictionary<string, string> ScoringSettings(PlatformProcesses platform, Dictionary<string, string> env)
    {
        env["Services__Sandbox"] = $"http://127.0.0.1:{platform.Port("sandbox")}";
        env["Services__Orchestrator"] = $"http://127.0.0.1:{platform.Port("orchestrator")}";
        env["Scoring__TasksRoot"] = Path.Combine(TestEnv.RepoRoot, "tasks");
        return env;
    }

    /// <summary>An orchestrator of its own schema and queues, so it never touches the shared platform's.</summary>
    private static Dictionary<string, string> OrchestratorSettings()
    {
        var schema = TestEnv.UniqueSchema("startup");
        var dead = $"http://127.0.0.1:{TestEnv.FreePort()}";
        return new()
        {
            ["Platform__Key"] = TestPlatformKey.Key,
            ["ConnectionStrings__Postgres"] = TestEnv.PostgresConnectionString,
            ["Orchestrator__Schema"] = schema,
            ["RabbitMq__Host"] = "127.0.0.1",
            ["RabbitMq__Port"] = TestEnv.RabbitPort.ToString(),
            ["RabbitMq__QueuePrefix"] = schema,
            ["Services__Sandbox"] = dead,
            ["Services__Scoring"] = dead,
            ["Services__Agents"] = dead,
        };
    }
}

/// <summary>A loopback TCP relay to a local port; <see cref="Stop"/> refuses new connections and cuts the open ones.</summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;

    private TcpRelay(int target) => _target = target;

    public int Port { get; private set; }

    public static TcpRelay Start(int target)
    {
        var relay = new TcpRelay(target) { Port = TestEnv.FreePort() };
        relay.Resume();
        return relay;
    }

    public void Resume()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, Port);
        listener.Start();
        _listener = listener;
        _ = AcceptAsync(listener);
    }

    public void Stop()
    {
        _listener?.Stop();
        _listener = null;
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                var inbound = await listener.AcceptTcpClientAsync();
                var outbound = new TcpClient();
                await outbound.ConnectAsync("127.0.0.1", _target);
                lock (_open) _open.AddRange([inbound, outbound]);
                _ = PumpAsync(inbound, outbound);
                _ = PumpAsync(outbound, inbound);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // Cut by Stop or closed by an end.
        }
        from.Dispose();
        to.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One service as a process on a free loopback port; disposing kills it if it still runs.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static ServiceProcess Start(string service, Dictionary<string, string> settings)
    {
        var dll = PlatformProcesses.ServiceDll(service);
        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var port = TestEnv.FreePort();
        psi.Environment["Service__Port"] = port.ToString();
        psi.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (k, v) in settings) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        var started = new ServiceProcess(p, port);
        p.OutputDataReceived += (_, e) => started.Append(e.Data);
        p.ErrorDataReceived += (_, e) => started.Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return started;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public Task WaitListeningAsync() => PlatformProcesses.WaitForPortAsync(Port, _process, () => Output);

    public async Task<(int Code, string Output)> ExitAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {within.TotalSeconds:0} s:\n{Output}");
        }
        return (_process.ExitCode, Output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

/// <summary>A loopback server answering the secret calls of the Dapr sidecar's gRPC API from a fixed set of secrets.</summary>
internal sealed class FakeDaprSidecar : FakeDapr.Dapr.DaprBase, IAsyncDisposable
{
    private readonly Dictionary<string, Dictionary<string, string>> _secrets;
    private WebApplication? _app;

    private FakeDaprSidecar(Dictionary<string, Dictionary<string, string>> secrets) => _secrets = secrets;

    public int Port { get; private set; }

    /// <summary>(store, secret) of every GetSecret call.</summary>
    public ConcurrentBag<(string Store, string Secret)> Requests { get; } = [];

    public static async Task<FakeDaprSidecar> StartAsync(Dictionary<string, Dictionary<string, string>> secrets)
    {
        var sidecar = new FakeDaprSidecar(secrets) { Port = TestEnv.FreePort() };
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(sidecar.Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        var app = builder.Build();
        app.MapGrpcService<FakeDaprSidecar>();
        await app.StartAsync();
        sidecar._app = app;
        return sidecar;
    }

    public override Task<GetSecretResponse> GetSecret(GetSecretRequest request, ServerCallContext context)
    {
        Requests.Add((request.StoreName, request.Key));
        // As Dapr answers for a secret its store lacks: an error status, not an empty map.
        if (!_secrets.TryGetValue(request.Key, out var data))
            throw new RpcException(new Status(StatusCode.NotFound, $"secret {request.Key} not found"));
        var response = new GetSecretResponse();
        response.Data.Add(data);
        return Task.FromResult(response);
    }

    public override Task<GetBulkSecretResponse> GetBulkSecret(GetBulkSecretRequest request, ServerCallContext context)
    {
        var response = new GetBulkSecretResponse();
        foreach (var (name, data) in _secrets)
        {
            var secret = new SecretResponse();
            secret.Secrets.Add(data);
            response.Data.Add(name, secret);
        }
        return Task.FromResult(response);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
