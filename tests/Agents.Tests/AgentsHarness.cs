using AgentsEntryPoint = ReBench.Agents.AgentsEntryPoint;

namespace ReBench.Agents.Tests;

/// <summary>The agents service in process, talking over real loopback gRPC to the fake orchestrator and scoring service.</summary>
public sealed class AgentsHarness : IAsyncDisposable
{
    private WebApplicationFactory<AgentsEntryPoint>? _factory;

    private AgentsHarness() { }

    public FakeBackends Backends { get; } = new();
    public FakeSession Session => Backends.Session;
    public V1.Agents.AgentsClient Client { get; private set; } = null!;

    /// <param name="settings">Extra configuration of the agents service (e.g. Agents:Providers:...).</param>
    public static async Task<AgentsHarness> StartAsync(params (string Key, string Value)[] settings)
    {
        var h = new AgentsHarness();
        await h.Backends.StartAsync();
        h._factory = new WebApplicationFactory<AgentsEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Services:Session", h.Backends.Address).UseSetting("Services:Scoring", h.Backends.Address);
            foreach (var (k, v) in settings) b.UseSetting(k, v);
        });
        var channel = TestPlatformKey.Channel(h._factory.Server.BaseAddress, h._factory.Server.CreateHandler());
        h.Client = new V1.Agents.AgentsClient(channel);
        return h;
    }

    /// <summary>A credential of the shape the orchestrator mints (43 characters of URL-safe base64).</summary>
    public static string NewCredential() => System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static StartRunRequest Request(string agent, params (string Key, string Value)[] settings)
    {
        var r = new StartRunRequest
        {
            AttemptId = Guid.NewGuid().ToString(), Agent = agent, TaskId = "fix_embedding", Variant = "main",
            Instructions = "Improve the score.", TimeBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            SessionCredential = NewCredential(),
        };
        foreach (var (k, v) in settings) r.Settings[k] = v;
        return r;
    }

    public async Task<Run> WaitForEndAsync(string attemptId, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var run = await Client.GetRunAsync(new GetRunRequest { AttemptId = attemptId });
            if (run.State != "running") return run;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {attemptId} still running after {limit}: {run}");
            await Task.Delay(50);
        }
    }

    public static async Task<RpcException> FailsAsync(Func<Task> call, StatusCode expected)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(expected, e.StatusCode);
        return e;
    }

    /// <summary>Shuts the agents service down, as on a deployment.</summary>
    public async Task StopServiceAsync()
    {
        if (_factory is not { } factory) return;
        _factory = null;
        await factory.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopServiceAsync();
        await Backends.DisposeAsync();
    }
}
