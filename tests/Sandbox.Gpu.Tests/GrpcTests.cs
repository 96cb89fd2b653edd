using Grpc.Core;
using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>The sandbox service in process with the local driver and a simulated 8xH100 + 4xA100 inventory.</summary>
public sealed class GrpcTests : IDisposable
{
    private readonly SimulatedGpuSandboxes _sandboxes = new("rebench-gpu-grpc-");

    public void Dispose() => _sandboxes.Dispose();

    private V1.Sandbox.SandboxClient Start(params (string Key, string Value)[] settings) => _sandboxes.Start(settings);

    private static CreateEnvironmentRequest Request(string id, int gpus, string model) =>
        new() { EnvironmentId = id, TaskId = "t", Resources = new Resources { Cpus = 2, MemoryMb = 4096, GpuCount = gpus, GpuModel = model } };

    [Fact]
    public async Task Exec_sees_exactly_the_allocated_GPUs_and_capacity_reports_them_across_a_restart()
    {
        var client = Start();
        await client.CreateEnvironmentAsync(Request("gpu-a", 2, "H100"));
        await client.CreateEnvironmentAsync(Request("gpu-b", 4, "a100"));

        var capacity = await client.GetCapacityAsync(new GetCapacityRequest());
        Assert.Equal(("local", "simulated", 2, 4, 8192L), (capacity.Driver, capacity.GpuSource, capacity.EnvironmentsRunning, capacity.CpusRequested, capacity.MemoryRequestedMb));
        Assert.Equal(System.Environment.ProcessorCount, capacity.CpusTotal);
        Assert.True(capacity.MemoryTotalMb > 0);
        var h100 = capacity.GpuModels.Single(m => m.Model == "H100");
        Assert.Equal((8, 6, 2, 81559L), (h100.Total, h100.Free, h100.Used, h100.MemoryMb));
        Assert.Equal((4, 0, 4), capacity.GpuModels.Single(m => m.Model == "A100") is var a ? (a.Total, a.Free, a.Used) : default);
        var mine = capacity.Gpus.Where(g => g.EnvironmentId == "gpu-a").Select(g => g.Uuid).ToList();
        Assert.Equal(h100.UsedUuids, mine);

        var exec = await Run(client, "gpu-a", "printf '%s|%s' \"$CUDA_VISIBLE_DEVICES\" \"$NVIDIA_VISIBLE_DEVICES\"");
        Assert.Equal($"{string.Join(",", mine)}|{string.Join(",", mine)}", exec);

        var busy = await Assert.ThrowsAsync<RpcException>(() => client.CreateEnvironmentAsync(Request("gpu-c", 1, "A100")).ResponseAsync);
        Assert.Equal((StatusCode.ResourceExhausted, "1 GPUs of model A100 requested, 0 free"), (busy.StatusCode, busy.Status.Detail));

        // A restarted service on the same root keeps the allocations, and Destroy frees them.
        var restarted = Start();
        Assert.Equal(mine, (await restarted.GetCapacityAsync(new GetCapacityRequest())).Gpus.Where(g => g.EnvironmentId == "gpu-a").Select(g => g.Uuid));
        await restarted.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = "gpu-b" });
        await restarted.CreateEnvironmentAsync(Request("gpu-c", 1, "A100"));
        var after = await restarted.GetCapacityAsync(new GetCapacityRequest());
        Assert.Equal(3, after.GpuModels.Single(m => m.Model == "A100").Free);
    }

    [Theory]
    [InlineData(-1, "H100", StatusCode.InvalidArgument, "resources.gpu_count -1 is negative")]
    [InlineData(int.MaxValue, "H100", StatusCode.InvalidArgument, "resources.gpu_count 2147483647 exceeds the per-environment limit of 64 (Sandbox:Gpus:MaxPerEnvironment)")]
    [InlineData(9, "H100", StatusCode.FailedPrecondition, "9 GPUs of model H100 requested, but this node has only 8 (it has 8x H100, 4x A100)")]
    [InlineData(1, "B200", StatusCode.FailedPrecondition, "1 GPUs of model B200 requested, but this node has no GPU of that model (it has 8x H100, 4x A100)")]
    public async Task Bad_GPU_requests_get_clear_statuses(int count, string model, StatusCode code, string message)
    {
        var client = Start();
        var e = await Assert.ThrowsAsync<RpcException>(() => client.CreateEnvironmentAsync(Request("bad", count, model)).ResponseAsync);
        Assert.Equal((code, message), (e.StatusCode, e.Status.Detail));
        Assert.Equal(0, (await client.GetCapacityAsync(new GetCapacityRequest())).EnvironmentsRunning);
    }

    [Fact]
    public async Task The_kubernetes_driver_is_selected_by_configuration_and_serves_the_same_API()
    {
        await using var api = await FakeKubeApi.StartAsync();
        var home = Directory.CreateDirectory(Path.Combine(_sandboxes.Root, "pod-home")).FullName;
        var client = Start(("Sandbox:Driver", "kubernetes"), ("Sandbox:Kubernetes:ApiServer", api.Url), ("Sandbox:Kubernetes:Namespace", "ns1"),
            ("Sandbox:Kubernetes:HomePath", home), ("Sandbox:Kubernetes:PollMilliseconds", "50"));
        var env = await client.CreateEnvironmentAsync(Request("k8s-env", 1, "H100"));
        Assert.Equal(("kubernetes", home), (env.Driver, env.HomePath));
        Assert.Equal("hello", await Run(client, "k8s-env", "printf hello"));
        var capacity = await client.GetCapacityAsync(new GetCapacityRequest());
        Assert.Equal(("kubernetes", 1, 2), (capacity.Driver, capacity.EnvironmentsRunning, capacity.CpusRequested));
        Assert.Empty(capacity.Gpus); // the cluster's scheduler places GPUs; the node inventory does not apply
        Assert.True((await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = "k8s-env" })).Existed);
        Assert.Contains(api.Requests, r => r.Method == "DELETE" && r.Path.StartsWith("/api/v1/namespaces/ns1/pods/"));
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = "k8s-env" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    private static async Task<string> Run(V1.Sandbox.SandboxClient client, string env, string command)
    {
        using var call = client.Exec(new ExecRequest { EnvironmentId = env, Command = command, TimeoutSeconds = 60 });
        var stdout = new MemoryStream();
        ExecExit? exit = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == ExecEvent.EventOneofCase.Stdout) e.Stdout.WriteTo(stdout);
            if (e.EventCase == ExecEvent.EventOneofCase.Exit) exit = e.Exit;
        }
        Assert.Equal(0, exit!.ExitCode);
        return System.Text.Encoding.UTF8.GetString(stdout.ToArray());
    }
}
