using Microsoft.Extensions.Configuration;
using Placement = ReBench.Orchestrator.Supervision;

namespace ReBench.Sandbox.Tests;

/// <summary>
/// The orchestrator's placement step on the real sandbox service's GetCapacity answer, read with the orchestrator's
/// own client stubs over the wire, on a node with a simulated 2 x H100 inventory: start while GPUs are free, queue
/// while they are taken, fail when the node has fewer than the task needs.
/// </summary>
public sealed class PlacementThroughSandboxTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-placement-").FullName;
    private readonly WebApplicationFactory<ReBench.Sandbox.SandboxEntryPoint> _factory;

    public PlacementThroughSandboxTests()
    {
        _factory = new WebApplicationFactory<ReBench.Sandbox.SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Sandbox:Root", _root);
            b.UseSetting("Sandbox:Isolation", "none"); // placement is about the inventory, not the confinement
            b.UseSetting("Sandbox:Gpus:Source", "simulated");
            b.UseSetting("Sandbox:Gpus:Simulated", "H100:2");
        });
    }

    public void Dispose()
    {
        _factory.Dispose();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_orchestrator_places_by_the_sandboxs_capacity()
    {
        var channel = TestPlatformKey.Channel(_factory.Server.BaseAddress, _factory.Server.CreateHandler());
        var client = new V1.Sandbox.SandboxClient(channel);

        async Task<Placement.PlacementDecision> PlanAsync(Placement.PlacementRequest request) =>
            Placement.PlacementPlanner.Plan(
                Placement.AttemptPlacement.ToNode(await client.GetCapacityAsync(new GetCapacityRequest())),
                [request], 4, new Placement.PlacementPolicy()).Single();

        var agent = new Placement.PlacementRequest(Guid.NewGuid(), false, 1, 512, 1, "H100");
        Assert.Equal(Placement.PlacementKind.Start, (await PlanAsync(agent)).Kind);

        var holder = await client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "t", Resources = new Resources { Cpus = 1, MemoryMb = 512, GpuCount = 2, GpuModel = "h100" },
        });
        var busy = await PlanAsync(agent);
        Assert.Equal(Placement.PlacementKind.Queue, busy.Kind);
        Assert.Equal("waiting for node capacity: 1 GPUs of model H100 requested, 0 of 2 free", busy.Reason);

        var tooMany = await PlanAsync(agent with { GpuCount = 3 });
        Assert.Equal(Placement.PlacementKind.Fail, tooMany.Kind);
        Assert.Equal("the task needs 3 GPUs of model H100 and the sandbox node has 2", tooMany.Reason);

        await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = holder.EnvironmentId });
        Assert.Equal(Placement.PlacementKind.Start, (await PlanAsync(agent)).Kind);
    }

    /// <summary>
    /// The endpoints the orchestrator passes (Orchestrator:AllowedEndpoints plus the task's own) go only to tasks with the
    /// network permission; the real service accepts them there and refuses them without it.
    /// </summary>
    [Fact]
    public async Task The_orchestrator_passes_allowed_endpoints_only_for_tasks_with_the_network_permission()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orchestrator:AllowedEndpoints:0"] = "127.0.0.1:8443",
            ["Orchestrator:TaskEndpoints:llm_task:0"] = "api.example.test:443",
            ["Orchestrator:TaskEndpoints:llm_task:1"] = "127.0.0.1:8443",
        }).Build();
        Assert.Equal(["127.0.0.1:8443", "api.example.test:443"], Placement.AttemptPlacement.EndpointsFor(config, "llm_task", network: true));
        Assert.Equal(["127.0.0.1:8443"], Placement.AttemptPlacement.EndpointsFor(config, "other_task", network: true));
        Assert.Empty(Placement.AttemptPlacement.EndpointsFor(config, "llm_task", network: false));

        var client = new V1.Sandbox.SandboxClient(TestPlatformKey.Channel(_factory.Server.BaseAddress, _factory.Server.CreateHandler()));
        foreach (var network in new[] { true, false })
        {
            var env = await client.CreateEnvironmentAsync(new CreateEnvironmentRequest
            {
                TaskId = "llm_task", Network = network, AllowedEndpoints = { Placement.AttemptPlacement.EndpointsFor(config, "llm_task", network) },
            });
            await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env.EnvironmentId });
        }
        var refused = await SandboxClientExtensions.FailsAsync(() => client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "llm_task", Network = false, AllowedEndpoints = { Placement.AttemptPlacement.EndpointsFor(config, "llm_task", true) },
        }).ResponseAsync, global::Grpc.Core.StatusCode.InvalidArgument);
        Assert.Contains("network permission", refused.Status.Detail);
    }
}
