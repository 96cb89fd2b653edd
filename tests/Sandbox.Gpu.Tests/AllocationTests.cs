namespace ReBench.Sandbox.Gpu.Tests;

public sealed class AllocationTests : IDisposable
{
    private readonly string _state = Gpus.TempStateFile();
    private readonly MemoryDriver _inner = new();

    public void Dispose()
    {
        try { Directory.Delete(Path.GetDirectoryName(_state)!, true); } catch (DirectoryNotFoundException) { }
    }

    [Fact]
    public async Task Environments_get_disjoint_GPUs_and_every_exec_sees_exactly_its_own()
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        await driver.CreateAsync(Gpus.Spec("a", 3), default);
        await driver.CreateAsync(Gpus.Spec("b", 5, "NVIDIA H100 80GB HBM3"), default);
        var a = driver.Allocator.Find("a")!.GpuUuids;
        var b = driver.Allocator.Find("b")!.GpuUuids;
        Assert.Equal(3, a.Count);
        Assert.Equal(5, b.Count);
        Assert.Empty(a.Intersect(b));

        await Drain(driver.ExecAsync(Exec("a"), default));
        Assert.Equal(string.Join(",", a), _inner.LastExecEnv![GpuAllocatingDriver.CudaVariable]);
        Assert.Equal(string.Join(",", a), _inner.LastExecEnv![GpuAllocatingDriver.NvidiaVariable]);
        Assert.Equal("kept", _inner.LastExecEnv["OTHER"]);
    }

    [Fact]
    public async Task An_environment_without_GPUs_on_a_GPU_node_sees_none_and_cannot_pick_its_own()
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        await driver.CreateAsync(Gpus.Spec("cpu-only", 0), default);
        await Drain(driver.ExecAsync(Exec("cpu-only"), default));
        Assert.Equal("", _inner.LastExecEnv![GpuAllocatingDriver.CudaVariable]);
        Assert.Equal("none", _inner.LastExecEnv![GpuAllocatingDriver.NvidiaVariable]);

        var sneaky = Exec("cpu-only") with { Env = new Dictionary<string, string> { ["CUDA_VISIBLE_DEVICES"] = "0" } };
        var e = await Assert.ThrowsAsync<SandboxException>(() => Drain(driver.ExecAsync(sneaky, default)));
        Assert.Equal((SandboxError.InvalidArgument, "env variable 'CUDA_VISIBLE_DEVICES' is set by the sandbox"), (e.Error, e.Message));
    }

    [Fact]
    public async Task A_busy_node_refuses_with_resource_exhausted_and_frees_on_destroy()
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        await driver.CreateAsync(Gpus.Spec("a", 7), default);
        var e = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(Gpus.Spec("b", 2), default));
        Assert.Equal((SandboxError.ResourceExhausted, "2 GPUs of model H100 requested, 1 free"), (e.Error, e.Message));
        Assert.DoesNotContain("b", _inner.Live);

        Assert.True(await driver.DestroyAsync("a", default));
        await driver.CreateAsync(Gpus.Spec("b", 8), default);
        Assert.Equal(8, driver.Allocator.Find("b")!.GpuUuids.Count);
    }

    [Theory]
    [InlineData(9, "H100", SandboxError.FailedPrecondition, "9 GPUs of model H100 requested, but this node has only 8 (it has 8x H100)")]
    [InlineData(1, "A100", SandboxError.FailedPrecondition, "1 GPUs of model A100 requested, but this node has no GPU of that model (it has 8x H100)")]
    [InlineData(-1, "H100", SandboxError.InvalidArgument, "resources.gpu_count -1 is negative")]
    [InlineData(1_000_000, "H100", SandboxError.InvalidArgument, "resources.gpu_count 1000000 exceeds the per-environment limit of 64 (Sandbox:Gpus:MaxPerEnvironment)")]
    public async Task Impossible_requests_are_refused_for_good(int count, string model, SandboxError error, string message)
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        var e = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(Gpus.Spec("x", count, model), default));
        Assert.Equal((error, message), (e.Error, e.Message));
        Assert.Empty(driver.Allocator.Snapshot());
    }

    [Fact]
    public async Task A_node_without_GPUs_says_so()
    {
        var driver = Gpus.Driver(_inner, GpuInventory.None, _state);
        var e = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(Gpus.Spec("x", 1), default));
        Assert.Equal(SandboxError.FailedPrecondition, e.Error);
        Assert.Equal("1 GPUs of model H100 requested, but this node has no GPUs (Sandbox:Gpus:Source is none)", e.Message);
        await driver.CreateAsync(Gpus.Spec("y", 0), default); // environments without GPUs are unaffected
    }

    [Fact]
    public async Task Allocations_survive_a_restart_and_a_failed_create_gives_its_GPUs_back()
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        await driver.CreateAsync(Gpus.Spec("a", 6), default);
        _inner.FailNextCreate = true;
        await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(Gpus.Spec("b", 2), default));
        Assert.Null(driver.Allocator.Find("b"));

        var restarted = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        Assert.Equal(driver.Allocator.Find("a")!.GpuUuids, restarted.Allocator.Find("a")!.GpuUuids);
        var e = await Assert.ThrowsAsync<SandboxException>(() => restarted.CreateAsync(Gpus.Spec("c", 3), default));
        Assert.Equal("3 GPUs of model H100 requested, 2 free", e.Message);
        // Create is idempotent on the id: the same GPUs, no second allocation.
        await restarted.CreateAsync(Gpus.Spec("a", 6), default);
        Assert.Single(restarted.Allocator.Snapshot());
    }

    [Fact]
    public async Task GPUs_of_an_environment_that_died_are_released_when_they_are_needed()
    {
        var driver = Gpus.Driver(_inner, Gpus.H100Node(), _state);
        await driver.CreateAsync(Gpus.Spec("a", 8), default);
        _inner.Crash("a");
        await driver.CreateAsync(Gpus.Spec("b", 8), default); // reconciles before refusing
        Assert.Null(driver.Allocator.Find("a"));
        _inner.Crash("b");
        Assert.Equal(1, await driver.ReconcileAsync(default));
        Assert.Empty(driver.Allocator.Snapshot());
    }

    private static ExecSpec Exec(string id) =>
        new(id, "nvidia-smi", null, null, new Dictionary<string, string> { ["OTHER"] = "kept" }, 0, false, ReadOnlyMemory<byte>.Empty);

    private static async Task Drain(IAsyncEnumerable<ExecOutput> outputs)
    {
        await foreach (var _ in outputs) { }
    }
}
