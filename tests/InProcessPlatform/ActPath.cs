using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using ReBench.Gateway;
using ReBench.Orchestrator;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Grpc;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;
using ReBench.Sandbox;
using ReBench.Sandbox.V1;
using ReBench.ServiceDefaults;
using ReBench.Testing;

namespace ReBench.InProcess;

/// <summary>
/// The path one Act takes: gateway (internal listener) -> orchestrator -> sandbox, each a WebApplication built
/// by the same extension methods as its Program.cs, on its own loopback port. One attempt is recorded as started
/// against a real sandbox environment, so Acts run for real. Spans of all three go to <see cref="Spans"/>.
/// </summary>
public sealed class ActPath : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];
    private bool _serviceTokenCheck = true;
    private readonly string _sandboxRoot = Directory.CreateTempSubdirectory("rebench-actpath-").FullName;

    public SpanSink Spans { get; } = new();
    public int GatewayInternalPort { get; private set; }
    public int OrchestratorPort { get; private set; }
    public int SandboxPort { get; private set; }
    public Guid AttemptId { get; private set; }
    /// <summary>The in-process orchestrator's services (a benchmark times its parts alone).</summary>
    public IServiceProvider OrchestratorServices { get; private set; } = null!;
    /// <summary>The session credential of <see cref="AttemptId"/>.</summary>
    public string Credential { get; private set; } = "";
    /// <summary>The attempt-session API through the gateway, sending <see cref="AttemptId"/>'s session credential.</summary>
    public AttemptSession.AttemptSessionClient Session { get; private set; } = null!;
    /// <summary>
    /// With <c>uncheckedAttempt</c>: a second running attempt whose calls skip the session-credential check (the
    /// orchestrator's gate is wrapped here, never in production), so a benchmark can set the check's cost beside the
    /// same path without it, in one run on one platform.
    /// </summary>
    public Guid? UncheckedAttemptId { get; private set; }
    /// <summary>The attempt-session API through the gateway, sending no credential (for <see cref="UncheckedAttemptId"/>).</summary>
    public AttemptSession.AttemptSessionClient UncheckedSession { get; private set; } = null!;

    /// <param name="isolation">The sandbox's Sandbox:Isolation (auto, namespaces, none); null keeps its default.</param>
    /// <param name="uncheckedAttempt">Also seed <see cref="UncheckedAttemptId"/>.</param>
    /// <param name="serviceTokenCheck">
    /// False builds the orchestrator and sandbox without the service token check, for ActBench's figure of what the
    /// check costs (measured beside a path with it in the same run); no deployment can be configured so.
    /// </param>
    public static async Task<ActPath> StartAsync(bool traces, string? isolation = null, bool uncheckedAttempt = false, bool serviceTokenCheck = true)
    {
        var p = new ActPath { _serviceTokenCheck = serviceTokenCheck };
        await p.InitAsync(traces, isolation, uncheckedAttempt);
        return p;
    }

    private async Task InitAsync(bool traces, string? isolation, bool uncheckedAttempt)
    {
        SandboxPort = TestEnv.FreePort();
        OrchestratorPort = TestEnv.FreePort();
        var gatewayPort = TestEnv.FreePort();
        GatewayInternalPort = TestEnv.FreePort();
        var schema = TestEnv.UniqueSchema("actpath");

        var sandboxSettings = new Dictionary<string, string?> { ["Sandbox:Root"] = _sandboxRoot };
        if (isolation is not null) sandboxSettings["Sandbox:Isolation"] = isolation;
        await StartAsync("sandbox", SandboxPort, sandboxSettings,
            b => b.AddSandbox(), a => a.MapSandbox(), traces);
        var orchestrator = await StartAsync("orchestrator", OrchestratorPort, new()
        {
            ["ConnectionStrings:Postgres"] = TestEnv.PostgresConnectionString,
            ["Orchestrator:Schema"] = schema,
            ["Orchestrator:MaxConcurrentAttempts"] = "0",
            ["Services:Sandbox"] = $"http://127.0.0.1:{SandboxPort}",
            ["Services:Scoring"] = "http://127.0.0.1:9",
            ["Services:Agents"] = "http://127.0.0.1:9",
        }, b =>
        {
            b.AddOrchestrator();
            b.Services.AddSingleton<SessionGate>();
            b.Services.AddSingleton<ISessionGate>(sp => new BypassingGate(sp.GetRequiredService<SessionGate>(), this));
        }, a => a.MapOrchestrator(), traces);
        await StartAsync("gateway", gatewayPort, new()
        {
            ["Gateway:InternalPort"] = GatewayInternalPort.ToString(),
            ["Gateway:ApiKeys:0"] = "actpath-key",
            ["Services:Orchestrator"] = $"http://127.0.0.1:{OrchestratorPort}",
            ["Services:Scoring"] = "http://127.0.0.1:9",
        }, b => b.AddGateway(), a => a.MapGateway(), traces);

        AttemptId = await SeedRunningAttemptAsync(orchestrator);
        OrchestratorServices = orchestrator.Services;
        Credential = await orchestrator.Services.GetRequiredService<SessionCredentials>().IssueAsync(AttemptId, default);
        Session = new AttemptSession.AttemptSessionClient(Channel(Credential));
        if (uncheckedAttempt) UncheckedAttemptId = await SeedRunningAttemptAsync(orchestrator);
        UncheckedSession = new AttemptSession.AttemptSessionClient(Channel(null));
    }

    private GrpcChannel Channel(string? credential)
    {
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (credential is not null) metadata.Add(SessionCredentials.Header, credential);
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress($"http://127.0.0.1:{GatewayInternalPort}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    /// <summary>The orchestrator's own gate for every attempt but <see cref="UncheckedAttemptId"/>.</summary>
    private sealed class BypassingGate(SessionGate gate, ActPath path) : ISessionGate
    {
        public ValueTask AuthorizeAsync(Guid attemptId, ServerCallContext context) =>
            attemptId == path.UncheckedAttemptId ? ValueTask.CompletedTask : gate.AuthorizeAsync(attemptId, context);
    }

    /// <summary>The sandbox's part of an Act alone: one Exec straight to the sandbox service.</summary>
    public async Task ExecDirectAsync(string command)
    {
        _sandbox ??= new Sandbox.V1.Sandbox.SandboxClient(TestPlatformKey.Channel($"http://127.0.0.1:{SandboxPort}"));
        using var call = _sandbox.Exec(new ExecRequest { EnvironmentId = AttemptId.ToString("N"), Command = command });
        while (await call.ResponseStream.MoveNext(default)) { }
    }

    private Sandbox.V1.Sandbox.SandboxClient? _sandbox;

    private async Task<Guid> SeedRunningAttemptAsync(WebApplication orchestrator)
    {
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(TestPlatformKey.Channel($"http://127.0.0.1:{SandboxPort}"));
        var attemptId = Guid.NewGuid();
        var env = await sandbox.CreateEnvironmentAsync(new CreateEnvironmentRequest { EnvironmentId = attemptId.ToString("N"), TaskId = "actpath" });
        var now = DateTimeOffset.UtcNow;
        var scheduled = new AttemptScheduled(attemptId, Guid.NewGuid(), "actpath", "cpu", "scripted", [], 0, TimeSpan.FromHours(1), "bench", now);
        await orchestrator.Services.GetRequiredService<CampaignStore>().CreateAsync(new CampaignCreated(scheduled.CampaignId, "actpath",
            [new("actpath", "cpu")], [new("scripted", [])], 1, TimeSpan.FromHours(1), [attemptId], null, "bench", now), [scheduled], default);
        var info = new AttemptDecider.StartInfo(env.EnvironmentId, env.Driver, "local", "1", "none", "none", 1, 0, "min", true, "bench");
        var attempts = orchestrator.Services.GetRequiredService<AttemptStore>();
        await attempts.AppendAsync(attemptId, s => AttemptDecider.Start(s, info, "bench", now), default);
        // No agents service here: the steps are driven by the caller, so mark the agent as launched.
        await attempts.AppendAsync(attemptId, s => AttemptDecider.LaunchAgent(s, now), default);
        return attemptId;
    }

    private async Task<WebApplication> StartAsync(string name, int port, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map, bool traces)
    {
        var app = await LoopbackService.StartAsync(name, port, settings, b =>
        {
            add(b);
            if (traces) b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans));
        }, map, _serviceTokenCheck);
        _apps.Add(app);
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_sandboxRoot, recursive: true); } catch (IOException) { }
    }
}
