using MassTransit;

namespace ReBench.Contracts;

/// <summary>
/// Integration event: an attempt reached a terminal state. Published from the orchestrator's committed event
/// log; EventId is the stored event's id, so consumers deduplicate on it (delivery is at least once).
/// Scores are null where there is no valid score (JSON has no NaN).
/// </summary>
[MessageUrn("rebench.orchestrator.attempt-finished")]
public sealed record AttemptFinished(
    Guid EventId,
    Guid AttemptId,
    Guid CampaignId,
    string TaskId,
    string Variant,
    string Agent,
    string Status,
    double? RawScore,
    double? NormalizedScore,
    bool FinalScoreValid,
    DateTimeOffset FinishedAt)
{
    // Added after the first version: optional members, so older messages still deserialize.
    public double TimeBudgetSeconds { get; init; }
    /// <summary>Working time used, pauses excluded.</summary>
    public double WorkingSeconds { get; init; }
    public double CostUsd { get; init; }
    public long ModelCalls { get; init; }
    /// <summary>Every intermediate score in order, for score-over-time analysis.</summary>
    public IReadOnlyList<ScorePoint> ScoreTimeline { get; init; } = [];
    /// <summary>
    /// The attempt's terminal event: its number in the stream and its chain link (which the attempt's seal signs). They
    /// bind the stored result to the sealed record; 0 and null in messages from before they existed.
    /// </summary>
    public long FinalVersion { get; init; }
    public string? ChainHash { get; init; }
    /// <summary>A re-execution, in a campaign the orchestrator marked as audit work: reports leave it out unless asked.</summary>
    public bool AuditWork { get; init; }
}

public sealed record ScorePoint(long ElapsedMs, bool Valid, double? RawScore, double? NormalizedScore);
