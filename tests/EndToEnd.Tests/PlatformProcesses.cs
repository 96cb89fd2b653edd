using System.Net.Sockets;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The five services as real processes on free loopback ports, built by scripts/test.sh, against the real
/// PostgreSQL (a schema of their own) and RabbitMQ. The same binaries and configuration keys as scripts/run.sh.
/// </summary>
public sealed class PlatformProcesses : IAsyncLifetime
{
    public const string ApiKey = "e2e-test-key";
    public const string AuditorKey = "e2e-auditor-key";
    public const string AuditorKeyId = "e2e-auditor";
    /// <summary>Base64 of a 32-byte Ed25519 seed (test only).</summary>
    public const string SigningKey = "ZTJlLXRlc3Qtc2lnbmluZy1rZXktMzItYnl0ZXMhISE=";
    private readonly Dictionary<string, Process> _processes = [];
    private readonly Dictionary<string, int> _ports = [];
    private readonly string _workDir = Directory.CreateTempSubdirectory("rebench-e2e-").FullName;
    private readonly string _schema = TestEnv.UniqueSchema("e2e");
    private static readonly string[] Services = ["sandbox", "scoring", "agents", "orchestrator", "gateway"];

    private string _keyFile = "";

    public int Port(string service) => _ports[service];

    /// <summary>A channel straight to a backend whose calls carry a valid service token (the test key).</summary>
    public GrpcChannel BackendChannel(string service, GrpcChannelOptions? options = null) =>
        TestPlatformKey.Channel($"http://127.0.0.1:{_ports[service]}", options);
    public int InternalPort => _ports["gateway-internal"];
    /// <summary>Where the agents service's provider "scripted" (OpenAI wire) points; a test serves its scripted model here.</summary>
    public int LlmPort { get; } = TestEnv.FreePort();
    public const string LlmApiKey = "e2e-llm-secret-key";
    public string LogsDir => _workDir;
    /// <summary>Sandbox:Root of the platform's sandbox service: one directory per live environment.</summary>
    public string SandboxRoot => Path.Combine(_workDir, "sandbox");
    /// <summary>The orchestrator's event-store schema in the test PostgreSQL.</summary>
    public string Schema => _schema;

    /// <summary>Between the agents service and the gateway's internal listener: the credentials each driver sent.</summary>
    public SessionTap Tap { get; } = new();
    private IReadOnlyDictionary<string, string>? _scoringSettings;

    public async Task InitializeAsync()
    {
        foreach (var s in Services.Append("gateway-internal")) _ports[s] = TestEnv.FreePort();
        await Tap.StartAsync(InternalPort);
        // As scripts/run.sh does: one key file (0600) every service reads; the key is never in argv or the environment.
        _keyFile = TestPlatformKey.WriteFile(_workDir);
        foreach (var s in Services) await StartAsync(s);
    }

    public async Task DisposeAsync()
    {
        foreach (var s in Services.Reverse()) Stop(s);
        await Tap.DisposeAsync();
    }

    public GrpcChannel PublicChannel(string? apiKey = ApiKey)
    {
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (apiKey is not null) metadata.Add("x-api-key", apiKey);
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress($"http://127.0.0.1:{_ports["gateway"]}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    public OrchestratorClients Orchestrator(string? apiKey = ApiKey) => new(PublicChannel(apiKey));

    /// <summary>The attempt-session API on the gateway's internal listener, sending <paramref name="credential"/> (none: no header).</summary>
    public AttemptSession.AttemptSessionClient Session(string? credential = null)
    {
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (credential is not null) metadata.Add("x-rebench-session", credential);
            return Task.CompletedTask;
        });
        return new(GrpcChannel.ForAddress($"http://127.0.0.1:{InternalPort}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        }));
    }

    /// <summary>The session credential the attempt's driver sent last (see <see cref="SessionTap"/>).</summary>
    public string CredentialOf(string attemptId) =>
        Tap.CredentialsOf(attemptId) is { Count: > 0 } seen ? seen[^1] : throw new InvalidOperationException($"no session call of attempt {attemptId} was seen");

    /// <summary>Kills the orchestrator (SIGKILL: no graceful shutdown) and starts it again, after <paramref name="down"/> if given.</summary>
    public async Task RestartOrchestratorAsync(TimeSpan? down = null)
    {
        Stop("orchestrator");
        if (down is { } wait) await Task.Delay(wait);
        await StartAsync("orchestrator");
    }

    /// <summary>
    /// Restarts the scoring service with <paramref name="settings"/> added to its configuration (another tasks root,
    /// operator TaskEnvironment values); null: as the fixture started it. A test that changes it restores it.
    /// </summary>
    public async Task RestartScoringAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        Stop("scoring");
        _scoringSettings = settings;
        await StartAsync("scoring");
    }

    /// <summary>Kills the agents service (SIGKILL) and starts it again: its runs are lost, the orchestrator relaunches them.</summary>
    public async Task RestartAgentsAsync()
    {
        Stop("agents");
        await StartAsync("agents");
    }

    /// <summary>
    /// Kills the sandbox service alone with SIGKILL, as a crash would: the processes it started (a step in flight, the
    /// environments' holders) stay, since they are not signalled; then starts it again after <paramref name="down"/>.
    /// </summary>
    public async Task CrashAndRestartSandboxAsync(TimeSpan down)
    {
        if (_processes.Remove("sandbox", out var p))
        {
            if (!p.HasExited) _ = Native.Kill(p.Id, 9);
            p.WaitForExit(10_000);
        }
        await Task.Delay(down);
        await StartAsync("sandbox");
    }

    public string LogTail(string service, int lines = 40)
    {
        var path = Path.Combine(_workDir, $"{service}.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no log)";
    }

    private Dictionary<string, string> Environment(string service)
    {
        string Url(string s) => $"http://127.0.0.1:{_ports[s]}";
        var env = new Dictionary<string, string>
        {
            ["Service__Port"] = _ports[service].ToString(),
            ["Platform__KeyFile"] = _keyFile,
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };
        switch (service)
        {
            case "sandbox":
                env["Sandbox__Root"] = SandboxRoot;
                break;
            case "scoring":
                env["Services__Sandbox"] = Url("sandbox");
                env["Services__Orchestrator"] = Url("orchestrator");
                env["Scoring__TasksRoot"] = Path.Combine(TestEnv.RepoRoot, "tasks");
                // Its results store and feed, as run.sh sets them up: reports see the attempts these tests finish.
                env["ConnectionStrings__Postgres"] = TestEnv.PostgresConnectionString;
                env["Scoring__Schema"] = _schema + "_reports";
                env["RabbitMq__Host"] = "127.0.0.1";
                env["RabbitMq__Port"] = TestEnv.RabbitPort.ToString();
                env["RabbitMq__QueuePrefix"] = _schema + "_reports";
                foreach (var (k, v) in _scoringSettings ?? new Dictionary<string, string>()) env[k] = v;
                break;
            case "agents":
                // Through the tap, which forwards to the gateway's internal listener unchanged.
                env["Services__Session"] = $"http://127.0.0.1:{Tap.Port}";
                env["Services__Scoring"] = Url("scoring");
                env["Agents__Providers__scripted__Kind"] = "openai";
                env["Agents__Providers__scripted__Endpoint"] = $"http://127.0.0.1:{LlmPort}/v1";
                env["Agents__Providers__scripted__ApiKey"] = LlmApiKey;
                env["Agents__Providers__scripted__Model"] = "scripted-model";
                env["Agents__Providers__scripted__InputPricePerMTok"] = "3";
                env["Agents__Providers__scripted__OutputPricePerMTok"] = "15";
                break;
            case "orchestrator":
                env["ConnectionStrings__Postgres"] = TestEnv.PostgresConnectionString;
                env["Orchestrator__Schema"] = _schema;
                env["RabbitMq__Host"] = "127.0.0.1";
                env["RabbitMq__Port"] = TestEnv.RabbitPort.ToString();
                env["RabbitMq__QueuePrefix"] = _schema;
                env["Services__Sandbox"] = Url("sandbox");
                env["Services__Scoring"] = Url("scoring");
                env["Services__Agents"] = Url("agents");
                env["Orchestrator__MaxConcurrentAttempts"] = "2";
                // The environment reconciler, fast enough for a test to watch it (production: 30 s and 120 s).
                env["Orchestrator__ReconcileIntervalSeconds"] = "2";
                env["Orchestrator__ReclaimGraceSeconds"] = "5";
                // A fixed seal key, so seals made before RestartOrchestratorAsync still verify after it.
                env["Audit__SigningKey"] = SigningKey;
                break;
            case "gateway":
                env["Gateway__InternalPort"] = InternalPort.ToString();
                env["Gateway__ApiKeys__0"] = ApiKey;
                env["Gateway__ApiKeys__1"] = AuditorKey;
                env["Gateway__ApiKeys__1__Role"] = "auditor";
                env["Gateway__ApiKeys__1__Id"] = AuditorKeyId;
                env["Services__Orchestrator"] = Url("orchestrator");
                env["Services__Scoring"] = Url("scoring");
                env["Services__Agents"] = Url("agents");
                break;
        }
        return env;
    }

    /// <summary>The service's built entry assembly, of the configuration these tests were built in.</summary>
    public static string ServiceDll(string service)
    {
        var name = char.ToUpperInvariant(service[0]) + service[1..];
        var configuration = typeof(PlatformProcesses).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        var dll = Path.Combine(TestEnv.RepoRoot, "services", service, "bin", configuration, "net10.0", $"ReBench.{name}.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first (scripts/test.sh does)");
    }

    private async Task StartAsync(string service)
    {
        var dll = ServiceDll(service);
        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (k, v) in Environment(service)) psi.Environment[k] = v;
        var p = StartLogged(psi, Path.Combine(_workDir, $"{service}.log"));
        _processes[service] = p;
        await WaitForPortAsync(service, _ports[service], p);
        if (service == "gateway") await WaitForPortAsync(service, InternalPort, p);
    }

    /// <summary>Starts the process with its stdout and stderr appended to <paramref name="logPath"/>.</summary>
    internal static Process StartLogged(ProcessStartInfo psi, string logPath)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private Task WaitForPortAsync(string service, int port, Process p) => WaitForPortAsync(port, p, () => $"{service}:\n{LogTail(service)}");

    /// <summary>Until <paramref name="p"/> listens on <paramref name="port"/>; its exit or 60 s throw with <paramref name="log"/>.</summary>
    public static async Task WaitForPortAsync(int port, Process p, Func<string> log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited) throw new InvalidOperationException($"exited with {p.ExitCode}: {log()}");
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"did not listen on {port} within 60 s: {log()}");
    }

    private void Stop(string service)
    {
        if (!_processes.Remove(service, out var p)) return;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }
}

internal static class Native
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformProcesses>
{
    public const string Name = "platform";
}
