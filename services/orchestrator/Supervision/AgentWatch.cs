using System.Collections.Concurrent;
using ReBench.Agents.V1;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Scoring.V1;

namespace ReBench.Orchestrator.Supervision;

/// <summary>The agents service lost the run of a running attempt (it restarted) and was asked to run it again.</summary>
public sealed record AgentRelaunched(Guid AttemptId, string Agent, string Reason, DateTimeOffset At);

/// <summary>
/// Watches the agent runs of running attempts: when the agents service no longer knows a launched attempt's run (it
/// restarted), the run is started again. Drivers are stateless between steps and resume from the attempt's stream
/// (GetStepHistory), and step ids make the steps already done return their recorded results.
/// </summary>
public sealed class AgentWatch(
    AttemptStore attempts,
    Agents.V1.Agents.AgentsClient agents,
    Scoring.V1.Scoring.ScoringClient scoring,
    IOptions<OrchestratorOptions> options,
    SessionCredentials credentials,
    TimeProvider time,
    ILogger<AgentWatch> logger)
{
    private readonly ConcurrentDictionary<Guid, long> _checked = new();

    private TimeSpan Interval => TimeSpan.FromSeconds(options.Value.AgentCheckSeconds);

    /// <summary>True at most once per interval per attempt; human baselines are driven by a person, not a run.</summary>
    public bool Due(Guid attemptId, string agent)
    {
        if (agent == AttemptSupervisor.HumanAgent) return false;
        var now = time.GetTimestamp();
        var last = _checked.GetOrAdd(attemptId, now);
        if (last != now && time.GetElapsedTime(last, now) < Interval) return false;
        _checked[attemptId] = now;
        return last != now;
    }

    public async Task CheckAsync(Guid attemptId, CancellationToken ct)
    {
        var state = await attempts.LoadAsync(attemptId, ct);
        if (state.Phase != AttemptPhase.Running || !state.AgentLaunched) return;
        try
        {
            await agents.GetRunAsync(new GetRunRequest { AttemptId = attemptId.ToString() }, cancellationToken: ct);
            return;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            logger.LogWarning("The agents service has no run for running attempt {Attempt}: {Detail}", attemptId, e.Status.Detail);
        }
        catch (RpcException e)
        {
            logger.LogDebug("GetRun for {Attempt}: {Status}", attemptId, e.Status);
            return; // down or restarting: asked again at the next check
        }
        logger.LogWarning("The agents service has no run for running attempt {Attempt} (it restarted); relaunching agent {Agent}", attemptId, state.Agent);
        var task = await scoring.GetTaskAsync(new GetTaskRequest { TaskId = state.TaskId, Variant = state.Variant }, cancellationToken: ct);
        var request = new StartRunRequest
        {
            AttemptId = attemptId.ToString(), Agent = state.Agent, TaskId = state.TaskId, Variant = state.Variant,
            Instructions = task.Instructions, TimeBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(state.TimeBudget),
        };
        request.Settings.Add(state.AgentSettings);
        // A new credential for the new run: the lost run's one is replaced, so whoever still holds it is refused.
        request.SessionCredential = await credentials.IssueAsync(attemptId, ct);
        await agents.StartRunAsync(request, cancellationToken: ct);
        await attempts.AppendAsync(attemptId, s => s.Phase == AttemptPhase.Running
            ? [new AgentRelaunched(attemptId, s.Agent, "the agents service had no run for the attempt (restarted)", time.GetUtcNow())]
            : [], ct);
    }
}
