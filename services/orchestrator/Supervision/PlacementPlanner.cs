namespace ReBench.Orchestrator.Supervision;

/// <summary>What one scheduled attempt's task asks of a node.</summary>
public sealed record PlacementRequest(Guid AttemptId, bool Human, int Cpus, long MemoryMb, int GpuCount, string GpuModel);

/// <summary>GPUs of one model on the node. <paramref name="Names"/>: the devices' full names, which a task may use too.</summary>
public sealed record GpuModelSlots(string Model, int Total, int Free, IReadOnlyList<string> Names);

/// <summary>The node as GetCapacity reports it: totals and what running environments have asked for.</summary>
public sealed record NodeCapacity(int CpusTotal, int CpusRequested, long MemoryTotalMb, long MemoryRequestedMb, IReadOnlyList<GpuModelSlots> Gpus);

public enum PlacementKind { Start, Queue, Fail }

public sealed record PlacementDecision(Guid AttemptId, PlacementKind Kind, string Reason = "");

/// <param name="CpuOvercommit">CPUs are shares, not exclusive: requests may add up to this many times the node's CPUs.</param>
/// <param name="MemoryOvercommit">The same for memory (1 = the sum of memory_mb stays within MemTotal).</param>
public sealed record PlacementPolicy(double CpuOvercommit = 4.0, double MemoryOvercommit = 1.0);

/// <summary>
/// Decides, for the scheduled attempts in priority order (human baselines first), which start now, which wait
/// (visibly queued, with the reason) and which can never run on this node. Pure: the same inputs give the same plan.
/// GPUs are exclusive. An attempt that waits for GPUs keeps its claim: attempts behind it may not take the GPUs it
/// waits for, so a human baseline is not starved by agent attempts that fit into each GPU as it frees up.
/// </summary>
public static class PlacementPlanner
{
    public static IReadOnlyList<PlacementDecision> Plan(NodeCapacity node, IReadOnlyList<PlacementRequest> requests, int slots, PlacementPolicy policy)
    {
        var ordered = requests.Select((r, i) => (r, i)).OrderBy(x => x.r.Human ? 0 : 1).ThenBy(x => x.i).Select(x => x.r);
        var cpusLeft = node.CpusTotal * policy.CpuOvercommit - node.CpusRequested;
        var memoryLeft = node.MemoryTotalMb * policy.MemoryOvercommit - node.MemoryRequestedMb;
        var gpusFree = node.Gpus.ToDictionary(g => g.Model, g => g.Free, StringComparer.OrdinalIgnoreCase);
        var decisions = new List<PlacementDecision>();
        foreach (var r in ordered)
        {
            if (Impossible(node, r) is { } never)
            {
                decisions.Add(new PlacementDecision(r.AttemptId, PlacementKind.Fail, never));
                continue;
            }
            var model = r.GpuCount > 0 ? ModelOf(node, r.GpuModel)! : null;
            var waits = new List<string>();
            if (model is not null && gpusFree[model.Model] < r.GpuCount)
            {
                waits.Add($"{r.GpuCount} GPUs of model {model.Model} requested, {Math.Max(0, gpusFree[model.Model])} of {model.Total} free");
            }
            if (r.Cpus > cpusLeft) waits.Add($"{r.Cpus} CPUs requested, {Math.Max(0, cpusLeft):0.#} left to place (node {node.CpusTotal} CPUs x {policy.CpuOvercommit:0.##} overcommit)");
            if (r.MemoryMb > memoryLeft) waits.Add($"{r.MemoryMb} MB memory requested, {Math.Max(0, memoryLeft):0} MB left to place (node {node.MemoryTotalMb} MB)");
            if (waits.Count == 0 && slots <= 0) continue; // fits, but the concurrency limit is reached: waits silently, as before
            if (waits.Count > 0)
            {
                decisions.Add(new PlacementDecision(r.AttemptId, PlacementKind.Queue, "waiting for node capacity: " + string.Join("; ", waits)));
                // Its GPUs are claimed all the same (it goes first when they free up); CPUs and memory are not scarce in the same way.
                if (model is not null) gpusFree[model.Model] -= r.GpuCount;
                continue;
            }
            decisions.Add(new PlacementDecision(r.AttemptId, PlacementKind.Start));
            slots--;
            cpusLeft -= r.Cpus;
            memoryLeft -= r.MemoryMb;
            if (model is not null) gpusFree[model.Model] -= r.GpuCount;
        }
        return decisions;
    }

    /// <summary>Why the node can never run the attempt (more than it has at all), or null.</summary>
    public static string? Impossible(NodeCapacity node, PlacementRequest r)
    {
        if (r.GpuCount > 0)
        {
            var model = ModelOf(node, r.GpuModel);
            var have = node.Gpus.Count == 0 ? "has no GPUs" : "has " + string.Join(", ", node.Gpus.Select(g => $"{g.Total} x {g.Model}"));
            if (model is null) return $"the task needs {r.GpuCount} GPUs of model '{r.GpuModel}' and the sandbox node {have}";
            if (r.GpuCount > model.Total) return $"the task needs {r.GpuCount} GPUs of model {model.Model} and the sandbox node has {model.Total}";
        }
        if (node.CpusTotal > 0 && r.Cpus > node.CpusTotal) return $"the task needs {r.Cpus} CPUs and the sandbox node has {node.CpusTotal}";
        if (node.MemoryTotalMb > 0 && r.MemoryMb > node.MemoryTotalMb) return $"the task needs {r.MemoryMb} MB of memory and the sandbox node has {node.MemoryTotalMb} MB";
        return null;
    }

    /// <summary>The model a task's gpu_model names: the short model or a device's full name, case-insensitive (as the sandbox matches).</summary>
    private static GpuModelSlots? ModelOf(NodeCapacity node, string gpuModel) =>
        node.Gpus.FirstOrDefault(g => string.Equals(g.Model, gpuModel.Trim(), StringComparison.OrdinalIgnoreCase)
            || g.Names.Any(n => string.Equals(n, gpuModel.Trim(), StringComparison.OrdinalIgnoreCase)));
}
