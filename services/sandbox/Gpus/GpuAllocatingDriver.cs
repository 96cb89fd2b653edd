using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Gpus;

/// <summary>
/// Wraps a node-local driver with exclusive GPU allocation: Create takes the GPUs before the environment exists and
/// gives them back if it cannot be made; every Exec sees exactly its GPUs; Destroy, or the environment's death
/// noticed by <see cref="ReconcileAsync"/>, frees them. The inner driver never learns about GPUs.
/// </summary>
public sealed class GpuAllocatingDriver(IEnvironmentDriver inner, GpuAllocator allocator, GpuOptions options, ILogger<GpuAllocatingDriver> logger)
    : IEnvironmentDriver, IEnvironmentCensus
{
    /// <summary>
    /// UUIDs rather than indices: CUDA numbers devices fastest-first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so an index
    /// from nvidia-smi can name a different GPU inside CUDA. Both CUDA and the NVIDIA container runtime accept UUIDs.
    /// </summary>
    public const string CudaVariable = "CUDA_VISIBLE_DEVICES";
    public const string NvidiaVariable = "NVIDIA_VISIBLE_DEVICES";

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string Name => inner.Name;

    public GpuAllocator Allocator => allocator;

    public async Task<EnvironmentInfo> CreateAsync(EnvironmentSpec spec, CancellationToken ct)
    {
        var request = GpuRequest.From(spec.Resources, options.MaxPerEnvironment);
        // The id is fixed here, not by the inner driver, because the allocation is keyed by it before the environment exists.
        var id = spec.EnvironmentId is { Length: > 0 } given ? SandboxNames.CheckId(given) : Guid.NewGuid().ToString();
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var (allocation, created) = await AllocateAsync(id, request, spec.Resources, ct);
            try
            {
                var info = await inner.CreateAsync(spec with { EnvironmentId = id }, ct);
                if (created && allocation.GpuUuids.Count > 0)
                {
                    logger.LogInformation("Environment {EnvironmentId} holds GPUs {Gpus}", id, string.Join(",", allocation.GpuUuids));
                }
                return info with { Gpus = GpusOf(allocation) };
            }
            catch when (created)
            {
                allocator.Release(id);
                throw;
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<EnvironmentInfo> GetAsync(string environmentId, CancellationToken ct)
    {
        try
        {
            var info = await inner.GetAsync(environmentId, ct);
            if (info.State == EnvironmentState.Destroyed) ReleaseDead(environmentId);
            return allocator.Find(environmentId) is { } allocation ? info with { Gpus = GpusOf(allocation) } : info;
        }
        catch (SandboxException e) when (e.Error == SandboxError.NotFound)
        {
            ReleaseDead(environmentId);
            throw;
        }
    }

    public async IAsyncEnumerable<ExecOutput> ExecAsync(ExecSpec spec, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var output in inner.ExecAsync(WithGpus(spec), ct)) yield return output;
    }

    public IAsyncEnumerable<ExecOutput> ExecInteractiveAsync(ExecSpec spec, TerminalSize size, System.Threading.Channels.ChannelReader<TerminalInput> input, CancellationToken ct) =>
        inner.ExecInteractiveAsync(WithGpus(spec), size, input, ct);

    public Task<FileReadResult> ReadFileAsync(string environmentId, string path, FileArea area, long maxBytes, CancellationToken ct) =>
        inner.ReadFileAsync(environmentId, path, area, maxBytes, ct);

    public Task SetAgentEnvironmentAsync(string environmentId, IReadOnlyDictionary<string, string> env, string? file, CancellationToken ct) =>
        inner.SetAgentEnvironmentAsync(environmentId, env, file, ct);

    public Task<FileWriteResult> WriteFileAsync(string environmentId, string path, ReadOnlyMemory<byte> content, bool executable, CancellationToken ct) =>
        inner.WriteFileAsync(environmentId, path, content, executable, ct);

    public Task<IReadOnlyList<EnvironmentListing>> ListAsync(CancellationToken ct) => inner.ListAsync(ct);

    public async Task<bool> DestroyAsync(string environmentId, CancellationToken ct)
    {
        SandboxNames.CheckId(environmentId);
        var gate = _locks.GetOrAdd(environmentId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            // Freed only after the inner driver has killed everything: a GPU handed on while the old owner still
            // runs on it would be shared. If Destroy fails, the reconciler frees it once the environment is gone.
            var existed = await inner.DestroyAsync(environmentId, ct);
            var released = allocator.Release(environmentId);
            return existed || released;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Releases the allocations of environments the inner driver no longer has (died, deleted behind our back).</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var released = 0;
        foreach (var allocation in allocator.Snapshot())
        {
            if (!await IsGoneAsync(allocation.EnvironmentId, ct)) continue;
            var gate = _locks.GetOrAdd(allocation.EnvironmentId, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(ct);
            try
            {
                // Checked again under the lock: a Create of the same id may have run in between.
                if (await IsGoneAsync(allocation.EnvironmentId, ct) && allocator.Release(allocation.EnvironmentId)) released++;
            }
            finally
            {
                gate.Release();
            }
        }
        if (released > 0) logger.LogInformation("Released the allocations of {Count} environments that no longer exist", released);
        return released;
    }

    public Task<EnvironmentCensus> CountAsync(CancellationToken ct)
    {
        var all = allocator.Snapshot();
        return Task.FromResult(new EnvironmentCensus(all.Count, all.Sum(a => a.Cpus), all.Sum(a => a.MemoryMb)));
    }

    private async Task<(EnvironmentAllocation, bool)> AllocateAsync(string id, GpuRequest request, ResourceSpec? resources, CancellationToken ct)
    {
        int cpus = resources?.Cpus ?? 0;
        long memory = resources?.MemoryMb ?? 0;
        try
        {
            return allocator.Allocate(id, request, cpus, memory);
        }
        catch (SandboxException e) when (e.Error == SandboxError.ResourceExhausted)
        {
            // Environments may have died since the last sweep; their GPUs are free in truth, so look before refusing.
            if (await ReconcileAsync(ct) == 0) throw;
            return allocator.Allocate(id, request, cpus, memory);
        }
    }

    /// <summary>Model, count and driver version of an allocation, for provenance (one model per allocation).</summary>
    private EnvironmentGpus GpusOf(EnvironmentAllocation allocation)
    {
        var devices = allocator.DevicesOf(allocation).ToList();
        if (devices.Count == 0) return EnvironmentGpus.None;
        return new EnvironmentGpus(string.Join(",", devices.Select(d => d.Model).Distinct()), devices.Count,
            string.Join(",", devices.Select(d => d.DriverVersion).Distinct()));
    }

    private ExecSpec WithGpus(ExecSpec spec)
    {
        if (allocator.Inventory.Devices.Count == 0) return spec; // a node without GPUs: nothing to hide or show
        foreach (var key in new[] { CudaVariable, NvidiaVariable })
        {
            if (spec.Env.ContainsKey(key)) throw SandboxException.Invalid($"env variable '{key}' is set by the sandbox");
        }
        var uuids = allocator.Find(spec.EnvironmentId) is { } a ? allocator.DevicesOf(a).Select(d => d.Uuid).ToList() : [];
        var env = new Dictionary<string, string>(spec.Env)
        {
            // Empty hides every GPU from CUDA; "none" is the container runtime's spelling of the same.
            [CudaVariable] = string.Join(",", uuids),
            [NvidiaVariable] = uuids.Count == 0 ? "none" : string.Join(",", uuids),
        };
        return spec with { Env = env };
    }

    private void ReleaseDead(string environmentId)
    {
        if (allocator.Release(environmentId)) logger.LogInformation("Environment {EnvironmentId} is gone; released its allocation", environmentId);
    }

    private async Task<bool> IsGoneAsync(string environmentId, CancellationToken ct)
    {
        try
        {
            return (await inner.GetAsync(environmentId, ct)).State == EnvironmentState.Destroyed;
        }
        catch (SandboxException e) when (e.Error is SandboxError.NotFound or SandboxError.InvalidArgument)
        {
            return true;
        }
    }
}
