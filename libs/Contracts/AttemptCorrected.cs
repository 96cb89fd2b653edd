using MassTransit;

namespace ReBench.Contracts;

/// <summary>
/// Integration event: a correction was recorded for an attempt (stored as attempt_correction_recorded in the
/// attempt's corrections stream). EventId is the stored event's id, for deduplication; Number is its 1-based
/// position in that stream, the order in which corrections apply.
/// </summary>
[MessageUrn("rebench.orchestrator.attempt-corrected")]
public sealed record AttemptCorrected(
    Guid EventId,
    Guid AttemptId,
    long Number,
    string Kind,
    string Reason,
    string Detail,
    string Actor,
    string Role,
    DateTimeOffset At);
