using SandboxEntryPoint = ReBench.Sandbox.SandboxEntryPoint;

namespace ReBench.Sandbox.Tests;

/// <summary>The sandbox service in process, on a temporary root of its own, with the default isolation (auto).</summary>
public class SandboxFixture : IDisposable
{
    private readonly List<WebApplicationFactory<SandboxEntryPoint>> _factories = [];
    private readonly IReadOnlyDictionary<string, string> _settings;

    public SandboxFixture() : this(new Dictionary<string, string>()) { }

    protected SandboxFixture(IReadOnlyDictionary<string, string> settings)
    {
        _settings = settings;
        Root = Path.Combine(Path.GetTempPath(), "rebench-sandbox-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Client = StartService();
    }

    public string Root { get; }
    public V1.Sandbox.SandboxClient Client { get; }

    /// <summary>A fresh service instance on the same root, as after a restart.</summary>
    public V1.Sandbox.SandboxClient StartService()
    {
        var factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Sandbox:Root", Root);
            foreach (var (key, value) in _settings) b.UseSetting(key, value);
        });
        _factories.Add(factory);
        var channel = TestPlatformKey.Channel(factory.Server.BaseAddress, factory.Server.CreateHandler());
        return new V1.Sandbox.SandboxClient(channel);
    }

    public async Task<string> NewEnvironmentAsync(string? agentFilesDir = null, string? protectedFilesDir = null,
        Resources? resources = null, bool network = false, string[]? allowedEndpoints = null)
    {
        var env = await Client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "test-task", AgentFilesDir = agentFilesDir ?? "", ProtectedFilesDir = protectedFilesDir ?? "",
            Resources = resources, Network = network, AllowedEndpoints = { allowedEndpoints ?? [] },
        });
        return env.EnvironmentId;
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
        // Environments hold processes, mounts and cgroups outside the root: destroy what the tests left running.
        foreach (var dir in Directory.Exists(Root) ? new DirectoryInfo(Root).EnumerateDirectories().Where(d => !d.Name.StartsWith('.')) : [])
        {
            try { Client.DestroyEnvironment(new DestroyEnvironmentRequest { EnvironmentId = dir.Name }); }
            catch (RpcException) { }
        }
        foreach (var f in _factories) f.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public sealed record ExecResult(string Stdout, string Stderr, ExecExit Exit, List<(TimeSpan At, ExecEvent Event)> Events);

public static class SandboxClientExtensions
{
    public static async Task<ExecResult> RunAsync(this V1.Sandbox.SandboxClient client, ExecRequest request)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var events = new List<(TimeSpan, ExecEvent)>();
        ExecExit? exit = null;
        using var call = client.Exec(request);
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            events.Add((started.Elapsed, e));
            Assert.Null(exit); // nothing may follow the exit message
            switch (e.EventCase)
            {
                case ExecEvent.EventOneofCase.Stdout: e.Stdout.WriteTo(stdout); break;
                case ExecEvent.EventOneofCase.Stderr: e.Stderr.WriteTo(stderr); break;
                case ExecEvent.EventOneofCase.Exit: exit = e.Exit; break;
            }
        }
        Assert.NotNull(exit);
        return new ExecResult(
            System.Text.Encoding.UTF8.GetString(stdout.ToArray()), System.Text.Encoding.UTF8.GetString(stderr.ToArray()), exit, events);
    }

    public static Task<ExecResult> RunAsync(this V1.Sandbox.SandboxClient client, string environmentId, string command, int timeoutSeconds = 0)
        => client.RunAsync(new ExecRequest { EnvironmentId = environmentId, Command = command, TimeoutSeconds = timeoutSeconds });

    public static async Task<RpcException> FailsAsync(Func<Task> call, StatusCode expected)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(expected, e.StatusCode);
        return e;
    }
}

/// <summary>Processes found through /proc by a marker in their command line (set with bash's exec -a).</summary>
public static class Processes
{
    public static bool AnyWithMarker(string marker) =>
        Directory.EnumerateDirectories("/proc").Any(d =>
        {
            if (!int.TryParse(Path.GetFileName(d), out _)) return false;
            try { return File.ReadAllText(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal); }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });

    public static async Task<bool> GoneWithinAsync(string marker, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (!AnyWithMarker(marker)) return true;
            await Task.Delay(100);
        }
        return !AnyWithMarker(marker);
    }
}

/// <summary>
/// A second sandbox service on a real Kestrel port of the host's loopback (isolation none, its own root): one of the
/// platform's gRPC ports, for the attack tests to aim at.
/// </summary>
public sealed class KestrelSandbox : IDisposable
{
    private readonly WebApplicationFactory<SandboxEntryPoint> _factory;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "rebench-sandbox-kestrel-" + Guid.NewGuid().ToString("N"));

    public KestrelSandbox()
    {
        Port = ReBench.Testing.TestEnv.FreePort();
        _factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Sandbox:Root", _root);
            b.UseSetting("Sandbox:Isolation", "none");
            b.UseSetting("Service:Port", Port.ToString());
        });
        _factory.UseKestrel();
        _factory.StartServer();
        Client = new V1.Sandbox.SandboxClient(TestPlatformKey.Channel($"http://127.0.0.1:{Port}"));
    }

    public int Port { get; }
    public V1.Sandbox.SandboxClient Client { get; }

    public void Dispose()
    {
        _factory.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
