namespace ReBench.Orchestrator.Campaigns;

// Stored event types of the campaign stream (schema: see the note in AttemptEvents.cs).

public sealed record CampaignTask(string TaskId, string Variant);

public sealed record CampaignAgent(string Name, Dictionary<string, string> Settings);

public sealed record CampaignCreated(
    Guid CampaignId, string Name, List<CampaignTask> Tasks, List<CampaignAgent> Agents, int AttemptsPerPair,
    TimeSpan TimeBudget, List<Guid> AttemptIds, string? RequestId, string Actor, DateTimeOffset At)
{
    /// <summary>Campaign-wide model-call cost cap in USD (enforced by Budgets/BudgetLedger.cs and BudgetReservations.cs); null = none.</summary>
    public double? CostCapUsd { get; init; }
    /// <summary>
    /// Audit work (a re-execution's campaign): set by the server (ReexecutionRules.Plan), never by a caller; reports
    /// leave its attempts out unless asked. False in every campaign created before it existed.
    /// </summary>
    public bool AuditWork { get; init; }
}

/// <summary>Recorded when the bus delivers an attempt's end; SourceEventId makes a redelivery a no-op.</summary>
public sealed record CampaignAttemptFinished(
    Guid CampaignId, Guid AttemptId, Guid SourceEventId, string Status, double? NormalizedScore, DateTimeOffset At);

public sealed record CampaignCompleted(Guid CampaignId, int Attempts, DateTimeOffset At);
