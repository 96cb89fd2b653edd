using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;

namespace ReBench.Orchestrator.Terminal;

/// <summary>The public human-baseline calls act only on running attempts of agent `human`.</summary>
public static class HumanAttempts
{
    public static async Task<AttemptState> RequireHumanAsync(AttemptStore attempts, Guid attemptId, CancellationToken ct)
    {
        var state = await attempts.TryLoadAsync(attemptId, ct) ?? throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        if (state.Agent != AttemptSupervisor.HumanAgent)
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"attempt {attemptId} is an attempt of agent '{state.Agent}'; only attempts of agent '{AttemptSupervisor.HumanAgent}' take a human's terminal and steps");
        return state;
    }

    public static async Task<AttemptState> RequireRunningAsync(AttemptStore attempts, Guid attemptId, CancellationToken ct)
    {
        var state = await RequireHumanAsync(attempts, attemptId, ct);
        if (state.Phase != AttemptPhase.Running || string.IsNullOrEmpty(state.EnvironmentId))
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {attemptId} is {state.Phase.ToString().ToLowerInvariant()}, not running; no terminal can be opened");
        return state;
    }
}
