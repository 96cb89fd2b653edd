using System.Collections.Concurrent;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// The scheduler and the clock. Every tick it reads the attempt views (written with the events) and starts
/// scheduled attempts while there is room, relaunches agents a restart interrupted, ends attempts past their
/// deadline and resumes finalizations. Because all of it is derived from the stored events, an orchestrator
/// restart loses no deadline.
/// </summary>
public sealed class AttemptSupervisor(
    IDocumentStore store,
    AttemptStore attempts,
    AttemptLifecycle lifecycle,
    AttemptPlacement placer,
    AgentWatch agentWatch,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<AttemptSupervisor> logger) : BackgroundService
{
    public const string HumanAgent = "human";
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tick = TimeSpan.FromMilliseconds(options.Value.SupervisorTickMs);
        var maxRunning = options.Value.MaxConcurrentAttempts;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(maxRunning, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Supervisor tick failed; retrying");
            }
            try { await Task.Delay(tick, time, stoppingToken); } catch (OperationCanceledException) { }
        }
        await Task.WhenAll(_inFlight.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task TickAsync(int maxRunning, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var active = await session.Query<AttemptView>()
            .Where(a => a.Phase == AttemptPhase.Scheduled || a.Phase == AttemptPhase.Running || a.Phase == AttemptPhase.Finalizing)
            .OrderBy(a => a.ScheduledAt).ThenBy(a => a.Index)
            .ToListAsync(ct);
        // Human baselines go before queued agent attempts (they are people waiting at a terminal).
        active = active.OrderBy(a => a.Agent == HumanAgent ? 0 : 1).ToList();
        var now = time.GetUtcNow();
        var running = active.Count(a => a.Phase != AttemptPhase.Scheduled);
        // Capacity-aware placement (AttemptPlacement.cs); null: no capacity answer, every attempt is tried as before.
        var placement = await placer.PlanAsync(active, maxRunning - running, ct);
        foreach (var a in active)
        {
            switch (a.Phase)
            {
                case AttemptPhase.Scheduled when placement?.GetValueOrDefault(a.Id) is { Kind: not PlacementKind.Start } d:
                    if (d.Reason != a.QueuedReason) Dispatch(a.Id, ct => placer.ApplyAsync(a.Id, d, ct), ct);
                    break;
                case AttemptPhase.Scheduled when running < maxRunning && (placement is null || placement.ContainsKey(a.Id)):
                    running++;
                    Dispatch(a.Id, ct => lifecycle.StartAsync(a.Id, ct), ct);
                    break;
                case AttemptPhase.Running when !a.Paused && a.Deadline is { } d && now >= d:
                    Dispatch(a.Id, ct => lifecycle.EnforceDeadlineAsync(a.Id, ct), ct);
                    break;
                case AttemptPhase.Running when !a.AgentLaunched:
                    Dispatch(a.Id, async ct => await lifecycle.LaunchAgentAsync(await attempts.LoadAsync(a.Id, ct), null, ct), ct);
                    break;
                case AttemptPhase.Running when agentWatch.Due(a.Id, a.Agent):
                    Dispatch(a.Id, ct => agentWatch.CheckAsync(a.Id, ct), ct);
                    break;
                case AttemptPhase.Finalizing:
                    Dispatch(a.Id, ct => lifecycle.FinalizeAsync(a.Id, ct), ct);
                    break;
            }
        }
    }

    /// <summary>At most one piece of supervisor work per attempt at a time; failures are logged and retried next tick.</summary>
    private void Dispatch(Guid attemptId, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inFlight.TryAdd(attemptId, done.Task)) return;
        _ = Task.Run(async () =>
        {
            try { await work(ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(e, "Supervising attempt {Attempt} failed; will retry", attemptId);
                await Task.Delay(TimeSpan.FromSeconds(1), time, CancellationToken.None);
            }
            catch (OperationCanceledException) { }
            finally
            {
                _inFlight.TryRemove(attemptId, out _);
                done.SetResult();
            }
        }, CancellationToken.None);
    }
}
