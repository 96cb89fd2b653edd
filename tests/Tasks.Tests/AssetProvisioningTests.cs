using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using ReBench.Orchestrator.V1;
using ReBench.Scoring.Assets;
using ReBench.Sandbox;

namespace ReBench.Tasks.Tests;

/// <summary>
/// The asset check on the path that provisions an attempt: a campaign on a variant whose operator assets are
/// incomplete ends with the attempt failed, the failure naming the missing asset, and its environment destroyed;
/// once the asset is there, the same variant starts. Sandbox and scoring run in this process on loopback ports,
/// the agents service and the orchestrator as their built processes against the real PostgreSQL and RabbitMQ.
/// </summary>
[Trait("Category", "Slow")]
public sealed class AssetProvisioningTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-asset-provisioning-").FullName;
    private readonly string _schema = TestEnv.UniqueSchema("assets");
    private readonly List<WebApplication> _apps = [];
    private readonly List<Process> _processes = [];
    private readonly int _orchestratorPort = TestEnv.FreePort();
    private int _sandboxPort;
    private string AssetRoot => Path.Combine(_root, "assets");

    public async Task InitializeAsync()
    {
        var tasks = Path.Combine(_root, "tasks");
        AssetTaskBundle.Write(tasks);
        AssetTaskBundle.PutAssets(AssetRoot, weights: AssetTaskBundle.Weights); // the protected split is missing
        _sandboxPort = TestEnv.FreePort();
        var scoringPort = TestEnv.FreePort();
        var agentsPort = TestEnv.FreePort();
        await StartInProcessAsync("sandbox", _sandboxPort, new() { ["Sandbox:Root"] = Path.Combine(_root, "sandbox") },
            b => b.AddSandbox(), a => a.MapSandbox());
        await StartInProcessAsync("scoring", scoringPort, new()
        {
            ["Scoring:TasksRoot"] = tasks, [AssetVerifier.RootKey] = AssetRoot, ["Services:Sandbox"] = Url(_sandboxPort),
        }, b => b.AddScoring(), a => a.MapScoring());
        await StartProcessAsync("agents", agentsPort, new()
        {
            ["Services__Session"] = "http://127.0.0.1:9", ["Services__Scoring"] = Url(scoringPort),
        });
        await StartProcessAsync("orchestrator", _orchestratorPort, new()
        {
            ["ConnectionStrings__Postgres"] = TestEnv.PostgresConnectionString, ["Orchestrator__Schema"] = _schema,
            ["RabbitMq__Host"] = "127.0.0.1", ["RabbitMq__Port"] = TestEnv.RabbitPort.ToString(), ["RabbitMq__QueuePrefix"] = _schema,
            ["Services__Sandbox"] = Url(_sandboxPort), ["Services__Scoring"] = Url(scoringPort), ["Services__Agents"] = Url(agentsPort),
            ["Orchestrator__MaxConcurrentAttempts"] = "1",
            ["Audit__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        });
    }

    [Fact]
    public async Task An_attempt_on_a_variant_with_a_missing_asset_fails_naming_it_and_starts_once_it_is_there()
    {
        using var channel = TestPlatformKey.Channel(Url(_orchestratorPort));
        var orchestrator = new OrchestratorClients(channel);

        var refused = await RunCampaignAsync(orchestrator, a => a.Status is AttemptStatus.Failed or AttemptStatus.Completed or AttemptStatus.Cancelled);
        Assert.Equal(AttemptStatus.Failed, refused.Status);
        Assert.StartsWith("could not start:", refused.FailureReason);
        Assert.Contains("asset_task variant main cannot start: 1 asset(s) missing or different", refused.FailureReason);
        Assert.Contains("protected/data/test.jsonl: missing", refused.FailureReason);
        Assert.Contains($"expected sha256 {AssetTaskBundle.Sha(AssetTaskBundle.Split)}", refused.FailureReason);
        Assert.DoesNotContain("weights.bin", refused.FailureReason);
        Assert.Null(refused.StartedAt); // attempt_started was never recorded
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(TestPlatformKey.Channel(Url(_sandboxPort)));
        // The environment made before the check is destroyed (right after the failure is recorded, so poll).
        var environmentId = Guid.Parse(refused.AttemptId).ToString("N");
        var state = "";
        for (var i = 0; i < 120 && state != "destroyed"; i++)
        {
            try
            {
                state = (await sandbox.GetEnvironmentAsync(new Sandbox.V1.GetEnvironmentRequest { EnvironmentId = environmentId })).State;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                state = "destroyed";
            }
            if (state != "destroyed") await Task.Delay(250);
        }
        Assert.Equal("destroyed", state);

        AssetTaskBundle.PutAssets(AssetRoot, split: AssetTaskBundle.Split);
        var started = await RunCampaignAsync(orchestrator, a => a.StartedAt is not null || a.Status is AttemptStatus.Failed);
        Assert.True(started.StartedAt is not null, $"status {started.Status}: {started.FailureReason}");
        await orchestrator.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = started.AttemptId, Reason = "test done" });
    }

    /// <summary>A one-attempt campaign on asset_task:main for the human agent (no agent driver runs); waits for <paramref name="until"/>.</summary>
    private static async Task<Attempt> RunCampaignAsync(OrchestratorClients orchestrator, Func<Attempt, bool> until)
    {
        var campaign = await orchestrator.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "assets", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = AssetTaskBundle.Id, Variant = "main" } }, Agents = { new AgentSpec { Name = "human" } },
        });
        var deadline = DateTime.UtcNow.AddSeconds(120);
        Attempt? attempt = null;
        while (DateTime.UtcNow < deadline)
        {
            attempt = (await orchestrator.Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.CampaignId })).Attempts.SingleOrDefault();
            if (attempt is not null && until(attempt)) return attempt;
            await Task.Delay(250);
        }
        throw new TimeoutException($"attempt did not get there in 120 s: {attempt}");
    }

    private static string Url(int port) => $"http://127.0.0.1:{port}";

    private async Task StartInProcessAsync(string name, int port, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map) =>
        _apps.Add(await LoopbackService.StartAsync(name, port, settings, add, map));

    /// <summary>A service from its build output (scripts/test.sh builds the solution first), as scripts/run.sh starts it.</summary>
    private async Task StartProcessAsync(string service, int port, Dictionary<string, string> environment)
    {
        var name = char.ToUpperInvariant(service[0]) + service[1..];
        var configuration = typeof(AssetProvisioningTests).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        var dll = Path.Combine(TestEnv.RepoRoot, "services", service, "bin", configuration, "net10.0", $"ReBench.{name}.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first (scripts/test.sh does)");
        var psi = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.Environment["Service__Port"] = port.ToString();
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        // The in-process services have the test key (LoopbackService); a process reads it from a file, as run.sh passes it.
        psi.Environment["Platform__KeyFile"] = File.Exists(Path.Combine(_root, "platform.key")) ? Path.Combine(_root, "platform.key") : TestPlatformKey.WriteFile(_root);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var log = new System.Text.StringBuilder();
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes.Add(p);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"{service} exited with {p.ExitCode}:\n{log}");
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(200);
            }
        }
        throw new TimeoutException($"{service} did not listen on {port} within 90 s:\n{log}");
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
