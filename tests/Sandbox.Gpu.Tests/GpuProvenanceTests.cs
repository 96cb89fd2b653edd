using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>CreateEnvironment's answer names the GPUs the environment holds, for the attempt's provenance.</summary>
public sealed class GpuProvenanceTests : IDisposable
{
    private readonly SimulatedGpuSandboxes _sandboxes = new("rebench-gpu-prov-");

    public void Dispose() => _sandboxes.Dispose();

    private V1.Sandbox.SandboxClient Start(string source) => _sandboxes.Start(("Sandbox:Gpus:Source", source));

    private static CreateEnvironmentRequest Request(string id, int gpus, string model) =>
        new() { EnvironmentId = id, TaskId = "t", Resources = new Resources { Cpus = 1, MemoryMb = 512, GpuCount = gpus, GpuModel = model } };

    [Fact]
    public async Task Create_and_Get_report_model_count_and_driver_of_the_allocated_GPUs()
    {
        var client = Start("simulated");
        var env = await client.CreateEnvironmentAsync(Request("prov-a", 2, "a100"));
        Assert.Equal(("A100", 2, "simulated"), (env.GpuModel, env.GpuCount, env.GpuDriverVersion));
        var again = await client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = "prov-a" });
        Assert.Equal(("A100", 2), (again.GpuModel, again.GpuCount));

        var none = await client.CreateEnvironmentAsync(Request("prov-b", 0, ""));
        Assert.Equal(("none", 0, "none"), (none.GpuModel, none.GpuCount, none.GpuDriverVersion));
    }

    [Fact]
    public async Task A_node_without_GPUs_reports_none()
    {
        var env = await Start("none").CreateEnvironmentAsync(Request("prov-c", 0, ""));
        Assert.Equal(("none", 0, "none"), (env.GpuModel, env.GpuCount, env.GpuDriverVersion));
    }
}
