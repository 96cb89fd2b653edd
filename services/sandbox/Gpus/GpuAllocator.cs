using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Gpus;

/// <summary>
/// Exclusive GPU allocation on one node. Every environment the service creates has a record (possibly with no GPU);
/// a GPU belongs to at most one record; every change is persisted before it is reported. Thread-safe.
/// </summary>
public sealed class GpuAllocator
{
    private readonly object _gate = new();
    private readonly AllocationStore _store;
    private readonly Dictionary<string, EnvironmentAllocation> _byEnvironment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _holder = new(StringComparer.OrdinalIgnoreCase); // GPU uuid -> environment

    public GpuAllocator(GpuInventory inventory, AllocationStore store, ILogger logger)
    {
        Inventory = inventory;
        _store = store;
        foreach (var allocation in store.Load())
        {
            // A record naming a GPU already held (a hand-edited or corrupt file) keeps only the GPUs still free.
            var gpus = allocation.GpuUuids.Where(u => !_holder.ContainsKey(u)).ToList();
            if (gpus.Count != allocation.GpuUuids.Count) logger.LogWarning("Allocation of {EnvironmentId} named GPUs held by another; dropped them", allocation.EnvironmentId);
            foreach (var u in gpus) _holder[u] = allocation.EnvironmentId;
            _byEnvironment[allocation.EnvironmentId] = allocation with { GpuUuids = gpus };
        }
        var missing = _holder.Keys.Where(u => inventory.Devices.All(d => !string.Equals(d.Uuid, u, StringComparison.OrdinalIgnoreCase))).ToList();
        if (missing.Count > 0) logger.LogWarning("Persisted allocations name GPUs no longer in the inventory: {Uuids}", string.Join(", ", missing));
    }

    public GpuInventory Inventory { get; }

    /// <summary>
    /// Records the environment and gives it <paramref name="request"/>'s GPUs, lowest indices first. An environment
    /// that already has a record keeps it (create is idempotent). Throws FailedPrecondition when the node can never
    /// satisfy the request and ResourceExhausted when it merely cannot now.
    /// </summary>
    public (EnvironmentAllocation Allocation, bool Created) Allocate(string environmentId, GpuRequest request, int cpus, long memoryMb)
    {
        lock (_gate)
        {
            if (_byEnvironment.TryGetValue(environmentId, out var existing)) return (existing, false);
            var chosen = request.Count == 0 ? [] : Choose(request);
            var allocation = new EnvironmentAllocation(environmentId, chosen.Select(d => d.Uuid).ToList(), cpus, memoryMb);
            _byEnvironment[environmentId] = allocation;
            foreach (var d in chosen) _holder[d.Uuid] = environmentId;
            try { Persist(); }
            catch
            {
                Forget(environmentId);
                throw;
            }
            return (allocation, true);
        }
    }

    /// <summary>Frees the environment's GPUs and forgets it. Returns false when it had no record.</summary>
    public bool Release(string environmentId)
    {
        lock (_gate)
        {
            if (!_byEnvironment.ContainsKey(environmentId)) return false;
            Forget(environmentId);
            Persist();
            return true;
        }
    }

    public EnvironmentAllocation? Find(string environmentId)
    {
        lock (_gate) return _byEnvironment.GetValueOrDefault(environmentId);
    }

    public IReadOnlyList<EnvironmentAllocation> Snapshot()
    {
        lock (_gate) return _byEnvironment.Values.ToList();
    }

    /// <summary>Which environment holds the GPU; null when free.</summary>
    public string? HolderOf(string uuid)
    {
        lock (_gate) return _holder.GetValueOrDefault(uuid);
    }

    /// <summary>The devices given to an environment, in index order (unknown UUIDs, from a changed node, are left out).</summary>
    public IReadOnlyList<GpuDevice> DevicesOf(EnvironmentAllocation allocation) =>
        Inventory.Devices.Where(d => allocation.GpuUuids.Contains(d.Uuid, StringComparer.OrdinalIgnoreCase)).ToList();

    private List<GpuDevice> Choose(GpuRequest request)
    {
        var devices = Inventory.Devices;
        if (devices.Count == 0)
        {
            throw SandboxException.Precondition($"{request.Describe()} requested, but this node has no GPUs (Sandbox:Gpus:Source is {Inventory.Source})");
        }
        var has = string.Join(", ", devices.GroupBy(d => d.Model, StringComparer.OrdinalIgnoreCase).Select(g => $"{g.Count()}x {g.Key}"));
        var candidates = devices.Where(d => request.AnyModel || d.Matches(request.Model))
            .GroupBy(d => d.Model, StringComparer.OrdinalIgnoreCase).ToList();
        if (candidates.Count == 0)
        {
            throw SandboxException.Precondition($"{request.Describe()} requested, but this node has no GPU of that model (it has {has})");
        }
        var big = candidates.Where(g => g.Count() >= request.Count).ToList();
        if (big.Count == 0)
        {
            throw SandboxException.Precondition($"{request.Describe()} requested, but this node has only {candidates.Max(g => g.Count())} (it has {has})");
        }
        // One model per environment: mixing models would make a run's speed depend on which GPUs it happened to get.
        foreach (var group in big)
        {
            var free = group.Where(d => !_holder.ContainsKey(d.Uuid)).OrderBy(d => d.Index).ToList();
            if (free.Count >= request.Count) return free.Take(request.Count).ToList();
        }
        var mostFree = big.Max(g => g.Count(d => !_holder.ContainsKey(d.Uuid)));
        throw SandboxException.Exhausted($"{request.Describe()} requested, {mostFree} free");
    }

    private void Forget(string environmentId)
    {
        if (!_byEnvironment.Remove(environmentId, out var allocation)) return;
        foreach (var u in allocation.GpuUuids)
        {
            if (_holder.TryGetValue(u, out var holder) && holder == environmentId) _holder.Remove(u);
        }
    }

    private void Persist() => _store.Save(_byEnvironment.Values);
}
