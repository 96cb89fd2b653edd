using System.Collections.Immutable;

namespace ReBench.Orchestrator.Attempts;

/// <summary>Pure fold of stored events into <see cref="AttemptState"/>.</summary>
public static class AttemptEvolver
{
    public static AttemptState Fold(IEnumerable<object> events, AttemptState? seed = null) =>
        events.Aggregate(seed ?? new AttemptState(), Evolve);

    public static AttemptState Evolve(AttemptState s, object e)
    {
        var next = e switch
        {
            AttemptScheduled x => s with
            {
                Id = x.AttemptId, CampaignId = x.CampaignId, TaskId = x.TaskId, Variant = x.Variant, Agent = x.Agent,
                AgentSettings = x.AgentSettings.ToImmutableDictionary(), Index = x.Index, TimeBudget = x.TimeBudget,
                Phase = AttemptPhase.Scheduled, ScheduledAt = x.At, ReexecutionOf = x.ReexecutionOf,
                // A re-execution recorded before AuditWork existed is audit work all the same.
                AuditWork = x.AuditWork || x.ReexecutionOf is not null,
            },
            AttemptStarted x => s with
            {
                Phase = AttemptPhase.Running, StartedAt = x.At, QueuedReason = null, Deadline = x.Deadline, EnvironmentId = x.EnvironmentId,
                BundleDigest = x.BundleDigest, StartScore = x.StartScore, ReferenceScore = x.ReferenceScore,
                Aggregation = x.Aggregation, ScoreVisible = x.ScoreVisible,
            },
            AgentLaunched => s with { AgentLaunched = true },
            AttemptQueued x => s with { QueuedReason = x.Reason },
            ActionRequested x => s with
            {
                PendingSteps = s.PendingSteps.Add(x.StepId), PendingActions = s.PendingActions.SetItem(x.StepId, x), ActionCount = s.ActionCount + 1,
            },
            ActionCompleted x => Complete(s, x.StepId, x),
            ScoreRequested x => s with { PendingSteps = s.PendingSteps.Add(x.StepId) },
            IntermediateScoreRecorded x => Complete(s, x.StepId, x) with { Scores = s.Scores.Add(x) },
            ModelCallCompleted x => Complete(s, x.StepId, x) with { CostUsd = s.CostUsd + x.CostUsd, ModelCalls = s.ModelCalls + 1 },
            AttemptPaused x => Complete(s, x.StepId, x) with { PausedSince = x.At },
            AgentNoteRecorded x => Complete(s, x.StepId, x),
            AttemptResumed x => Complete(s, x.StepId, x) with { PausedSince = null, PausedTotal = s.PausedTotal + x.PausedFor, Deadline = x.NewDeadline },
            SubmissionReceived x => Complete(s, x.StepId, x) with { Phase = AttemptPhase.Finalizing, EndReason = "submitted" },
            BudgetExhausted => s with { Phase = AttemptPhase.Finalizing, EndReason = "budget_exhausted" },
            FinalScoreRecorded x => s with { Final = x },
            AttemptCompleted x => s with { Phase = AttemptPhase.Completed, EndedAt = x.At, EndReason = x.Reason },
            AttemptFailed x => s with { Phase = AttemptPhase.Failed, EndedAt = x.At, EndReason = "failed", FailureReason = x.Reason },
            AttemptCancelled x => s with { Phase = AttemptPhase.Cancelled, EndedAt = x.At, EndReason = "cancelled", FailureReason = x.Reason },
            _ => s,
        };
        return next with { Version = s.Version + 1 };
    }

    private static AttemptState Complete(AttemptState s, string stepId, object result) => s with
    {
        PendingSteps = s.PendingSteps.Remove(stepId),
        PendingActions = s.PendingActions.Remove(stepId),
        CompletedSteps = s.CompletedSteps.SetItem(stepId, result),
    };
}
