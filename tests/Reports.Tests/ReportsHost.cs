using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using ReBench.Scoring;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>
/// The scoring service in process over two hand-made tasks (alpha: lower is better, 5 -> 1; beta: higher is better,
/// 0 -> 10), with its results store in a schema of its own on the real PostgreSQL, and, when
/// <paramref name="rabbit"/>, its consumer on the real RabbitMQ (queues under a prefix of its own).
/// <paramref name="database"/> false hosts it with no connection string at all.
/// </summary>
public class ReportsHost(bool database, bool rabbit) : IAsyncLifetime
{
    private WebApplicationFactory<ScoringEntryPoint>? _factory;
    private GrpcChannel? _channel;
    private readonly string _tasksRoot = Directory.CreateTempSubdirectory("rebench-report-tasks-").FullName;

    public string Schema { get; } = TestEnv.UniqueSchema("reports");
    public Scoring.V1.Reports.ReportsClient Client { get; private set; } = null!;
    public IServiceProvider Services => _factory!.Services;
    public GrpcChannel Channel => _channel!;
    public IResultsStore Store => Services.GetRequiredService<IResultsStore>();

    public Task InitializeAsync()
    {
        WriteBundles(_tasksRoot);
        _factory = new WebApplicationFactory<ScoringEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Scoring:TasksRoot", _tasksRoot);
            b.UseSetting("Services:Sandbox", "http://127.0.0.1:9"); // never called: reports need no sandbox
            b.ConfigureServices(ConfigureServices);
            if (database)
            {
                b.UseSetting("ConnectionStrings:Postgres", TestEnv.PostgresConnectionString);
                b.UseSetting("Scoring:Schema", Schema);
            }
            if (rabbit)
            {
                b.UseSetting("RabbitMq:Host", "127.0.0.1");
                b.UseSetting("RabbitMq:Port", TestEnv.RabbitPort.ToString());
                b.UseSetting("RabbitMq:QueuePrefix", Schema);
            }
        });
        _channel = TestPlatformKey.Channel(_factory.Server.BaseAddress, _factory.Server.CreateHandler());
        Client = new Scoring.V1.Reports.ReportsClient(_channel);
        var problems = Services.GetRequiredService<TaskCatalog>().Problems;
        if (problems.Count > 0) throw new InvalidOperationException("test bundles refused: " + string.Join("; ", problems.Select(p => p.Message)));
        return Task.CompletedTask;
    }

    /// <summary>Services a host of a particular test replaces (registered last: they win).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        Directory.Delete(_tasksRoot, recursive: true);
    }

    /// <summary>The two report test tasks (alpha, beta) under <paramref name="tasksRoot"/>.</summary>
    internal static void WriteBundles(string tasksRoot)
    {
        WriteBundle(tasksRoot, "alpha", "lower", "min", 5.0, 1.0);
        WriteBundle(tasksRoot, "beta", "higher", "max", 0.0, 10.0);
    }

    private static void WriteBundle(string tasksRoot, string id, string direction, string aggregation, double start, double reference)
    {
        var dir = Path.Combine(tasksRoot, id);
        Write(dir, "manifest.yaml", $"""
            format_version: 1
            id: {id}
            version: 1.0.0
            title: A report test task
            permissions:
              network: false
            resources:
              cpus: 1
              memory_mb: 512
            scoring:
              raw_score: a number
              direction: {direction}
              aggregation: {aggregation}
              start: {start:0.0}
              reference: {reference:0.0}
              measured_by: written by hand for a test
              scorer_timeout_seconds: 30
            variants:
              - name: cpu
                instructions: instructions.md

            """);
        Write(dir, "instructions.md", "Do well.\n");
        Write(dir, "agent/solution.py", "x = 1\n");
        Write(dir, "scoring/score.py", "print('{\"score\": 1.0, \"message\": {}, \"details\": {}}')\n");
        Write(dir, "reference/solution.py", "x = 2\n");
    }

    private static void Write(string dir, string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}

public sealed class DatabaseReportsHost() : ReportsHost(database: true, rabbit: false);
public sealed class BrokerReportsHost() : ReportsHost(database: true, rabbit: true);
public sealed class StorelessReportsHost() : ReportsHost(database: false, rabbit: false);
