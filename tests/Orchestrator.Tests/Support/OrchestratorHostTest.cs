namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Base of the tests against the shared in-process orchestrator (<see cref="OrchestratorHost"/>, one per class): the
/// host started, its services, a channel to its real gRPC endpoint made on first use, and the one-task campaigns
/// these tests schedule straight into the stores.
/// </summary>
public abstract class OrchestratorHostTest : IClassFixture<OrchestratorHost>, IDisposable
{
    private readonly Lazy<GrpcChannel> _channel;
    private readonly Lazy<string> _folder;

    protected OrchestratorHostTest(OrchestratorHost host)
    {
        Host = host;
        _ = host.Server; // starts the host: schema, daemon, bus
        _channel = new(() => TestPlatformKey.Channel(host.Server.BaseAddress, host.Server.CreateHandler()));
        _folder = new(() => Directory.CreateTempSubdirectory($"rebench-{GetType().Name}-").FullName);
    }

    /// <summary>Real time (the host's supervisor is running and would end an attempt whose deadline passed).</summary>
    protected DateTimeOffset T0 { get; } = DateTimeOffset.UtcNow;

    protected OrchestratorHost Host { get; }

    protected GrpcChannel Channel => _channel.Value;

    protected T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();

    /// <summary>A campaign of <paramref name="attempts"/> scheduled attempts at <see cref="T0"/>.</summary>
    protected Task<(Guid Campaign, Guid[] Attempts)> CampaignAsync(string name, int attempts, string agent = "noop",
        Dictionary<string, string>? settings = null, TimeSpan? attemptBudget = null, TimeSpan? campaignBudget = null) =>
        ScheduledCampaign.CreateAsync(Host.Services, name, attempts, T0, agent, settings, attemptBudget, campaignBudget);

    /// <summary>One scheduled attempt in a campaign of its own.</summary>
    protected async Task<Guid> ScheduledAttemptAsync(string name, string agent = "noop", Dictionary<string, string>? settings = null,
        TimeSpan? budget = null) =>
        (await CampaignAsync(name, 1, agent, settings, budget)).Attempts[0];

    /// <summary>A started attempt of the aide agent and the session credential its driver would be handed at launch.</summary>
    protected async Task<(Guid Id, string Credential)> RunningAttemptWithCredentialAsync(string name)
    {
        var id = await ScheduledAttemptAsync(name, "aide");
        var info = new AttemptDecider.StartInfo("env", "local", "node", "1", "b", "s", 2, 1, "min", true, "dev");
        await Get<AttemptStore>().AppendAsync(id, s => AttemptDecider.Start(s, info, "test", T0), CancellationToken.None);
        return (id, await Get<SessionCredentials>().IssueAsync(id, CancellationToken.None));
    }

    /// <summary>A temporary folder of this test's own, made on first use and deleted with the test.</summary>
    protected string Folder => _folder.Value;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        if (_channel.IsValueCreated) _channel.Value.Dispose();
        if (_folder.IsValueCreated) Directory.Delete(_folder.Value, recursive: true);
    }
}
