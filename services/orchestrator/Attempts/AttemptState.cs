using System.Collections.Immutable;

namespace ReBench.Orchestrator.Attempts;

public enum AttemptPhase { None, Scheduled, Running, Finalizing, Completed, Failed, Cancelled }

/// <summary>An attempt as rebuilt from its stream. Built only by <see cref="AttemptEvolver"/>.</summary>
public sealed record AttemptState
{
    public Guid Id { get; init; }
    public Guid CampaignId { get; init; }
    public string TaskId { get; init; } = "";
    public string Variant { get; init; } = "";
    public string Agent { get; init; } = "";
    public ImmutableDictionary<string, string> AgentSettings { get; init; } = ImmutableDictionary<string, string>.Empty;
    public int Index { get; init; }
    public TimeSpan TimeBudget { get; init; }
    /// <summary>The attempt this one re-executes (AttemptScheduled.ReexecutionOf).</summary>
    public Guid? ReexecutionOf { get; init; }
    /// <summary>Audit work (a re-execution): reports leave it out unless asked.</summary>
    public bool AuditWork { get; init; }
    public AttemptPhase Phase { get; init; }
    public DateTimeOffset ScheduledAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? Deadline { get; init; }
    public string? EnvironmentId { get; init; }
    public string? BundleDigest { get; init; }
    public double StartScore { get; init; }
    public double ReferenceScore { get; init; }
    public string Aggregation { get; init; } = "";
    public bool ScoreVisible { get; init; }
    public bool AgentLaunched { get; init; }
    /// <summary>Why the attempt is finishing or finished: submitted, budget_exhausted, cancelled, failed.</summary>
    public string? EndReason { get; init; }
    public string? FailureReason { get; init; }
    /// <summary>Steps whose request is recorded but whose result is not: the effect may have been cut off by a restart.</summary>
    public ImmutableHashSet<string> PendingSteps { get; init; } = ImmutableHashSet<string>.Empty;
    /// <summary>The pending steps that are actions, with their requests: what the deadline records a result for.</summary>
    public ImmutableDictionary<string, ActionRequested> PendingActions { get; init; } = ImmutableDictionary<string, ActionRequested>.Empty;
    /// <summary>Recorded result of each finished step (ActionCompleted, IntermediateScoreRecorded or SubmissionReceived).</summary>
    public ImmutableDictionary<string, object> CompletedSteps { get; init; } = ImmutableDictionary<string, object>.Empty;
    public ImmutableList<IntermediateScoreRecorded> Scores { get; init; } = ImmutableList<IntermediateScoreRecorded>.Empty;
    public FinalScoreRecorded? Final { get; init; }
    public int ActionCount { get; init; }
    /// <summary>Set while the clock is paused (LLM rate limits, a human's break): the budget does not run.</summary>
    public DateTimeOffset? PausedSince { get; init; }
    public TimeSpan PausedTotal { get; init; }
    public double CostUsd { get; init; }
    /// <summary>Why a scheduled attempt is still waiting for a place, if it tried and could not get one.</summary>
    public string? QueuedReason { get; init; }
    public long ModelCalls { get; init; }
    public long Version { get; init; }
    /// <summary>Chain link of the last stored event (docs/audit.md); set by the store, never by the evolver.</summary>
    public string? ChainHead { get; init; }

    public bool IsTerminal => Phase is AttemptPhase.Completed or AttemptPhase.Failed or AttemptPhase.Cancelled;
}
