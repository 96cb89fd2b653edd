using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The orchestrator in-process against the real PostgreSQL (a schema of its own) and the real RabbitMQ. The
/// downstream services point at a closed port and the scheduler starts nothing, so tests drive the stores directly.
/// </summary>
public sealed class OrchestratorHost : WebApplicationFactory<OrchestratorEntryPoint>
{
    private readonly (string Key, string Value)[] _settings;

    public OrchestratorHost() : this("orch") { }

    /// <summary>A host of its own (not the shared fixture): a schema named after <paramref name="schemaPrefix"/> and settings over the defaults.</summary>
    internal OrchestratorHost(string schemaPrefix, params (string Key, string Value)[] settings)
    {
        Schema = TestEnv.UniqueSchema(schemaPrefix);
        _settings = settings;
    }

    public string Schema { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting(TestPlatformKey.Setting.Key, TestPlatformKey.Key);
        builder.UseSetting("ConnectionStrings:Postgres", TestEnv.PostgresConnectionString);
        builder.UseSetting("Orchestrator:Schema", Schema);
        builder.UseSetting("Orchestrator:MaxConcurrentAttempts", "0");
        builder.UseSetting("RabbitMq:Host", "127.0.0.1");
        builder.UseSetting("RabbitMq:Port", TestEnv.RabbitPort.ToString());
        builder.UseSetting("RabbitMq:QueuePrefix", Schema);
        foreach (var s in new[] { "Sandbox", "Scoring", "Agents" }) builder.UseSetting($"Services:{s}", "http://127.0.0.1:9");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }
}
