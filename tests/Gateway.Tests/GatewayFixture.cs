using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using ReBench.ServiceDefaults;

namespace ReBench.Gateway.Tests;

/// <summary>
/// The gateway composed exactly as its Program.cs does, on Kestrel with two real loopback listeners, in front of
/// a <see cref="FakeBackend"/> serving as both orchestrator and scoring service.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string Key = "test-key-1";
    public const string OtherKey = "second-key";

    private WebApplication? _gateway;
    private readonly List<GrpcChannel> _channels = [];

    public FakeBackend Backend { get; private set; } = null!;
    public int PublicPort { get; } = TestEnv.FreePort();
    public int InternalPort { get; } = TestEnv.FreePort();

    /// <summary>Settings laid over the defaults, for a test that starts its own gateway.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    public GrpcChannel Public => Channel(PublicPort);
    public GrpcChannel Internal => Channel(InternalPort);

    public static Metadata ApiKeyHeader(string key) => new() { { "x-api-key", key } };

    public async Task InitializeAsync()
    {
        Backend = await FakeBackend.StartAsync();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = PublicPort.ToString(),
            ["Gateway:InternalPort"] = InternalPort.ToString(),
            [TestPlatformKey.Setting.Key] = TestPlatformKey.Key,
            ["Gateway:ApiKeys:0"] = Key,
            ["Gateway:ApiKeys:1"] = OtherKey,
            ["Services:Orchestrator"] = $"http://127.0.0.1:{Backend.Port}",
            ["Services:Scoring"] = $"http://127.0.0.1:{Backend.Port}",
        });
        builder.Configuration.AddInMemoryCollection(Overrides);
        builder.AddEdgeDefaults("gateway", PublicPort);
        builder.AddGateway();
        _gateway = builder.Build();
        _gateway.MapDefaultEndpoints();
        _gateway.MapGateway();
        await _gateway.StartAsync();
    }

    private GrpcChannel Channel(int port)
    {
        var channel = TestPlatformKey.Channel($"http://127.0.0.1:{port}");
        lock (_channels) _channels.Add(channel);
        return channel;
    }

    public async Task DisposeAsync()
    {
        lock (_channels) _channels.ForEach(c => c.Dispose());
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
        await Backend.DisposeAsync();
    }
}
