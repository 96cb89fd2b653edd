using ReBench.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using ReBench.Scoring;

namespace ReBench.Scoring.Tests;

/// <summary>
/// The scoring service in process (TestServer), talking gRPC over real loopback HTTP/2 to a test Sandbox server.
/// Tasks come from <paramref name="tasksRoot"/>, or the repository's tasks/ folder when null.
/// </summary>
public class ScoringHost(string? tasksRoot, IDisposable? ownedTasks = null) : IAsyncLifetime
{
    private WebApplicationFactory<ScoringEntryPoint>? _factory;
    private TestSandboxServer? _sandbox;
    private GrpcChannel? _channel;

    public TestEnvironments Environments { get; } = new();
    public V1.Scoring.ScoringClient Client { get; private set; } = null!;
    public IServiceProvider Services => _factory!.Services;

    public async Task InitializeAsync()
    {
        _sandbox = await TestSandboxServer.StartAsync(Environments);
        _factory = new WebApplicationFactory<ScoringEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Services:Sandbox", _sandbox.Address);
            if (tasksRoot is not null) b.UseSetting("Scoring:TasksRoot", tasksRoot);
        });
        _channel = TestPlatformKey.Channel(_factory.Server.BaseAddress, _factory.Server.CreateHandler());
        Client = new V1.Scoring.ScoringClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        if (_sandbox is not null) await _sandbox.DisposeAsync();
        Environments.Dispose();
        ownedTasks?.Dispose();
    }
}

/// <summary>The service over the shipped tasks.</summary>
public sealed class RepoScoringHost() : ScoringHost(null);
