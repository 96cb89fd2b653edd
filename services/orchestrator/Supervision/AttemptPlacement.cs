using System.Collections.Concurrent;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Sandbox.V1;
using ReBench.Scoring.V1;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// The supervisor's placement step: before scheduled attempts are started it reads the sandbox's GetCapacity and each
/// attempt's task resources, and lets <see cref="PlacementPlanner"/> decide. Attempts that do not fit are recorded as
/// queued (<c>attempt_queued</c> with the reason, once per distinct reason); attempts the node can never run fail.
/// Without a usable answer (a sandbox without GetCapacity, a Kubernetes driver whose capacity is the cluster's, the
/// scoring service down) it lets every attempt be tried as before: Create's RESOURCE_EXHAUSTED still queues them.
/// Also: the endpoints an environment of a task with the network permission may reach (<c>Orchestrator:AllowedEndpoints</c>,
/// per task <c>Orchestrator:TaskEndpoints:&lt;task_id&gt;</c>), passed to CreateEnvironment.
/// </summary>
public sealed class AttemptPlacement(
    Sandbox.V1.Sandbox.SandboxClient sandbox,
    Scoring.V1.Scoring.ScoringClient scoring,
    AttemptStore attempts,
    AttemptLocks locks,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<AttemptPlacement> logger)
{
    private static readonly TimeSpan TaskCacheFor = TimeSpan.FromSeconds(60);
    /// <summary>The supervisor ticks every 250 ms; while attempts wait, the node is asked at most this often.</summary>
    private static readonly TimeSpan CapacityFor = TimeSpan.FromSeconds(1);
    private static readonly IReadOnlyDictionary<Guid, PlacementDecision> Nothing = new Dictionary<Guid, PlacementDecision>();
    private readonly ConcurrentDictionary<(string, string), (DateTimeOffset At, TaskDescriptor Task)> _tasks = new();
    private (Capacity Answer, DateTimeOffset At)? _capacity;

    /// <summary>
    /// Decisions for the scheduled attempts among <paramref name="active"/>; an attempt without one waits silently for
    /// a slot; null = no placement information, start them as before. GPUs are the sandbox's own count (exclusive,
    /// physical); CPUs and memory in use are the requests of the attempts this orchestrator runs, so an environment a
    /// failed Destroy left behind does not block the node for good.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, PlacementDecision>?> PlanAsync(IReadOnlyList<AttemptView> active, int slots, CancellationToken ct)
    {
        var scheduled = active.Where(a => a.Phase == AttemptPhase.Scheduled).ToList();
        if (scheduled.Count == 0 || slots <= 0) return Nothing;
        var capacity = await CapacityAsync(ct);
        if (capacity is null || !capacity.Driver.StartsWith("local", StringComparison.Ordinal)) return null;
        var requests = new List<PlacementRequest>();
        foreach (var a in scheduled)
        {
            var task = await TaskAsync(a.TaskId, a.Variant, ct);
            if (task is null) return null;
            requests.Add(new PlacementRequest(a.Id, a.Agent == AttemptSupervisor.HumanAgent, task.Cpus, task.MemoryMb, task.GpuCount, task.GpuModel));
        }
        var (cpus, memory) = (0, 0L);
        foreach (var a in active.Where(a => a.Phase != AttemptPhase.Scheduled))
        {
            if (await TaskAsync(a.TaskId, a.Variant, ct) is { } task) (cpus, memory) = (cpus + task.Cpus, memory + task.MemoryMb);
        }
        var node = ToNode(capacity) with { CpusRequested = cpus, MemoryRequestedMb = memory };
        var decisions = PlacementPlanner.Plan(node, requests, slots, Policy());
        if (decisions.Any(d => d.Kind == PlacementKind.Start)) _capacity = null; // what it takes shows in the next answer
        return decisions.ToDictionary(d => d.AttemptId);
    }

    private async Task<Capacity?> CapacityAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_capacity is { } cached && now - cached.At < CapacityFor) return cached.Answer;
        try
        {
            var answer = await sandbox.GetCapacityAsync(new GetCapacityRequest(), deadline: now.UtcDateTime.AddSeconds(10), cancellationToken: ct);
            _capacity = (answer, now);
            return answer;
        }
        catch (RpcException e)
        {
            logger.LogDebug("No sandbox capacity for placement ({Status}); attempts are tried directly", e.Status);
            return null;
        }
    }

    /// <summary>Records a Queue or Fail decision (under the attempt's lock, only while it is still scheduled).</summary>
    public async Task ApplyAsync(Guid attemptId, PlacementDecision decision, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.LoadAsync(attemptId, ct);
        if (state.Phase != AttemptPhase.Scheduled) return;
        if (decision.Kind == PlacementKind.Queue)
        {
            await attempts.AppendAsync(attemptId, s => AttemptDecider.Queue(s, decision.Reason, time.GetUtcNow()), ct);
        }
        else if (decision.Kind == PlacementKind.Fail)
        {
            logger.LogWarning("Attempt {Attempt} cannot be placed: {Reason}", attemptId, decision.Reason);
            await attempts.AppendAsync(attemptId, s => AttemptDecider.Fail(s, $"could not start: {decision.Reason}", time.GetUtcNow()), ct);
        }
    }

    /// <summary>
    /// host:port entries the attempt's environment may reach through the sandbox's proxy; none for a task without the
    /// network permission (it gets no network at all, and the sandbox refuses endpoints for it).
    /// </summary>
    public IEnumerable<string> EndpointsFor(string taskId, bool network) => options.Value.EndpointsFor(taskId, network);

    public static IEnumerable<string> EndpointsFor(IConfiguration config, string taskId, bool network) =>
        (config.GetSection(OrchestratorOptions.Section).Get<OrchestratorOptions>() ?? new()).EndpointsFor(taskId, network);

    public static NodeCapacity ToNode(Capacity c) => new(
        c.CpusTotal, c.CpusRequested, c.MemoryTotalMb, c.MemoryRequestedMb,
        c.GpuModels.Select(m => new GpuModelSlots(m.Model, m.Total, m.Free,
            c.Gpus.Where(d => string.Equals(d.Model, m.Model, StringComparison.OrdinalIgnoreCase)).Select(d => d.Name).Distinct().ToList())).ToList());

    private PlacementPolicy Policy() => new(options.Value.Placement.CpuOvercommit, options.Value.Placement.MemoryOvercommit);

    private async Task<TaskDescriptor?> TaskAsync(string taskId, string variant, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_tasks.TryGetValue((taskId, variant), out var cached) && now - cached.At < TaskCacheFor) return cached.Task;
        try
        {
            var task = await scoring.GetTaskAsync(new GetTaskRequest { TaskId = taskId, Variant = variant }, cancellationToken: ct);
            _tasks[(taskId, variant)] = (now, task);
            return task;
        }
        catch (RpcException e)
        {
            // StartAsync asks again and fails the attempt with the scoring service's own reason where that is final.
            logger.LogDebug("Task {Task}/{Variant} for placement: {Status}", taskId, variant, e.Status);
            return null;
        }
    }
}
