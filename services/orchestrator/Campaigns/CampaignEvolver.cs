namespace ReBench.Orchestrator.Campaigns;

/// <summary>Pure fold of the campaign stream's events into <see cref="CampaignState"/> (shaped like AttemptEvolver).</summary>
public static class CampaignEvolver
{
    public static CampaignState Fold(IEnumerable<object> events, CampaignState? seed = null) => events.Aggregate(seed ?? new CampaignState(), Evolve);

    public static CampaignState Evolve(CampaignState s, object e) => (e switch
    {
        CampaignCreated x => s with
        {
            Id = x.CampaignId, Name = x.Name, Tasks = [.. x.Tasks], Agents = [.. x.Agents], AttemptsPerPair = x.AttemptsPerPair,
            TimeBudget = x.TimeBudget, CreatedAt = x.At, AttemptIds = [.. x.AttemptIds],
            AuditWork = x.AuditWork,
        },
        CampaignAttemptFinished x => s with
        {
            FinishedAttempts = s.FinishedAttempts.Add(x.AttemptId), SeenEventIds = s.SeenEventIds.Add(x.SourceEventId),
        },
        CampaignCompleted => s with { Completed = true },
        Streams.CampaignSealed => s with { Sealed = true },
        _ => s,
    }) with { Version = s.Version + 1 };
}
