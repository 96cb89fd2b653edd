using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using ReBench.Gateway;
using ReBench.Scoring.V1;
using ReBench.ServiceDefaults;
using ReBench.Scoring;

namespace ReBench.Reports.Tests;

/// <summary>
/// The Reports API as a client reaches it: through the real gateway's public listener, with an API key, to the real
/// scoring service (its results in a schema of its own on the real PostgreSQL). Both are WebApplications composed by
/// their own setup methods, each on a loopback port; no orchestrator is needed for reports.
/// </summary>
public sealed class GatewayReportsTests : IAsyncLifetime
{
    private const string Key = "reports-key";
    private readonly string _tasksRoot = Directory.CreateTempSubdirectory("rebench-gw-reports-").FullName;
    private readonly List<WebApplication> _apps = [];
    private readonly List<GrpcChannel> _channels = [];
    private int _publicPort;
    private int _internalPort;

    private Scoring.V1.Reports.ReportsClient Client(int port)
    {
        var channel = TestPlatformKey.Channel($"http://127.0.0.1:{port}");
        _channels.Add(channel);
        return new Scoring.V1.Reports.ReportsClient(channel);
    }

    private static Metadata WithKey(string key) => new() { { "x-api-key", key } };

    public async Task InitializeAsync()
    {
        ReportsHost.WriteBundles(_tasksRoot);
        var scoringPort = TestEnv.FreePort();
        await StartAsync("scoring", scoringPort, new()
        {
            ["Scoring:TasksRoot"] = _tasksRoot,
            ["Services:Sandbox"] = "http://127.0.0.1:9", // never called: reports need no sandbox
            ["ConnectionStrings:Postgres"] = TestEnv.PostgresConnectionString,
            ["Scoring:Schema"] = TestEnv.UniqueSchema("gw_reports"),
        }, b => b.AddScoring(), a => a.MapScoring());

        _publicPort = TestEnv.FreePort();
        _internalPort = TestEnv.FreePort();
        await StartAsync("gateway", _publicPort, new()
        {
            ["Gateway:InternalPort"] = _internalPort.ToString(),
            ["Gateway:ApiKeys:0"] = Key,
            ["Services:Scoring"] = $"http://127.0.0.1:{scoringPort}",
            ["Services:Orchestrator"] = "http://127.0.0.1:9",
        }, b => b.AddGateway(), a => a.MapGateway());
    }

    [Fact]
    public async Task Reports_answer_through_the_public_listener_with_an_API_key_only()
    {
        var client = Client(_publicPort);

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.ScoreAtKAsync(new ScoreAtKRequest { K = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("x-api-key", missing.Status.Detail);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.ScoreAtKAsync(new ScoreAtKRequest { K = 1 }, WithKey("nope")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);

        // alpha: lower is better, 5 -> 1, so 2.0 normalizes to 0.75; beta: 0 -> 10, so 5.0 is 0.5.
        var imported = await client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest
        {
            Csv = "task,raw_score,hours,hourly_rate_usd\nalpha,2.0,8,100\nbeta,5.0,8,50\n", Source = "gateway.csv",
        }, WithKey(Key));
        Assert.Equal(2, imported.Imported);

        var filter = new ReportFilter { Agents = { "human" } };
        var atK = await client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter }, WithKey(Key));
        var row = Assert.Single(atK.Rows);
        Assert.Equal(("human", 2), (row.Agent, row.TasksScored));
        Assert.Equal((0.75 + 0.5) / 2, row.Score, 1e-12);
        Assert.Equal(TimeSpan.FromHours(8), row.AttemptBudget.ToTimeSpan());

        var costs = await client.CostsAsync(new CostsRequest { Filter = filter }, WithKey(Key));
        Assert.Equal([400.0, 800.0], costs.Attempts.Select(a => a.CostUsd).Order());

        // A bad request is answered by the scoring service, its message intact through the gateway.
        var bad = await Assert.ThrowsAsync<RpcException>(() => client.ImportHumanBaselinesAsync(
            new ImportHumanBaselinesRequest { Csv = "task,raw_score\nalpha,1\n" }, WithKey(Key)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("hours", bad.Status.Detail);
    }

    [Fact]
    public async Task The_internal_listener_does_not_serve_reports()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Client(_internalPort).ScoreAtKAsync(new ScoreAtKRequest { K = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("Reports/ScoreAtK", e.Status.Detail);
    }

    private async Task StartAsync(string name, int port, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map) =>
        _apps.Add(await LoopbackService.StartAsync(name, port, settings, add, map));

    public async Task DisposeAsync()
    {
        _channels.ForEach(c => c.Dispose());
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_tasksRoot, recursive: true); } catch (IOException) { }
    }
}
