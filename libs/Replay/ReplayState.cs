using System.Collections.Immutable;

namespace ReBench.Replay;

/// <param name="Version">The event at which the file had this content.</param>
public sealed record WrittenFile(string Path, string Sha256, long Size, long Version);

public sealed record ScoreEntry(long Version, string StepId, bool Valid, double? RawScore, double? NormalizedScore, long ElapsedMs, string? InvalidReason);

/// <summary>An attempt's state as of one event, rebuilt from the events up to it by <see cref="ReplayFold"/>.</summary>
public sealed record ReplayState
{
    /// <summary>The last event folded in.</summary>
    public long Version { get; init; }
    public string AttemptId { get; init; } = "";
    public string TaskId { get; init; } = "";
    public string Variant { get; init; } = "";
    public string Agent { get; init; } = "";
    /// <summary>scheduled | queued | running | paused | finalizing | completed | failed | cancelled.</summary>
    public string Status { get; init; } = "unknown";
    public TimeSpan TimeBudget { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? PausedSince { get; init; }
    public TimeSpan PausedTotal { get; init; }
    /// <summary>The time of the last event folded in (the "now" of this state).</summary>
    public DateTimeOffset? AsOf { get; init; }
    /// <summary>Files written through the session API, by path: the last write wins.</summary>
    public ImmutableSortedDictionary<string, WrittenFile> Files { get; init; } = ImmutableSortedDictionary<string, WrittenFile>.Empty.WithComparers(StringComparer.Ordinal);
    public ImmutableList<ScoreEntry> Scores { get; init; } = [];
    public int Actions { get; init; }
    public int ActionsCompleted { get; init; }
    public long ModelCalls { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public double CostUsd { get; init; }
    public double? FinalNormalizedScore { get; init; }
    public double? FinalRawScore { get; init; }
    public bool? FinalValid { get; init; }
    public string? EndReason { get; init; }

    /// <summary>Working time used: from the start to this state's time (or the end), pauses excluded.</summary>
    public TimeSpan WorkingTime
    {
        get
        {
            if (StartedAt is not { } start) return TimeSpan.Zero;
            var now = EndedAt ?? PausedSince ?? AsOf ?? start;
            var used = now - start - PausedTotal;
            return used < TimeSpan.Zero ? TimeSpan.Zero : used;
        }
    }
}
