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
}

public sealed record ScorePoint(long ElapsedMs, bool Valid, double? RawScore, double? NormalizedScore);
