using System.Collections.Immutable;

namespace ReBench.Orchestrator.Campaigns;

public sealed record CampaignState
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public ImmutableList<CampaignTask> Tasks { get; init; } = [];
    public ImmutableList<CampaignAgent> Agents { get; init; } = [];
    public int AttemptsPerPair { get; init; }
    public TimeSpan TimeBudget { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public ImmutableList<Guid> AttemptIds { get; init; } = [];
    public ImmutableHashSet<Guid> FinishedAttempts { get; init; } = [];
    public ImmutableHashSet<Guid> SeenEventIds { get; init; } = [];
    public bool Completed { get; init; }
    /// <summary>The stream ends with campaign_sealed: nothing may follow.</summary>
    public bool Sealed { get; init; }
    public long Version { get; init; }
    /// <summary>CampaignCreated.AuditWork: a re-execution's campaign.</summary>
    public bool AuditWork { get; init; }
}
