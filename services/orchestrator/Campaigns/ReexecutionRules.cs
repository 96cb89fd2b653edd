using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// Pure rules of ReexecuteAttempt: which attempts may be re-executed, and the campaign and attempt that re-execute
/// one. The re-execution is an ordinary attempt of agent <see cref="ReplayAgent"/> in a campaign of its own, so it
/// is scheduled, budgeted, scored and sealed like any other, and its AttemptScheduled records the link. Its campaign
/// and attempt are marked as audit work, so researchers' reports leave it out unless they ask for it.
/// </summary>
public static class ReexecutionRules
{
    public const string ReplayAgent = "replay";
    public const string SourceSetting = "source_attempt";

    /// <summary>Refuses an attempt that cannot be re-executed; returns the bundle digest it ran with.</summary>
    public static string CheckSource(AttemptState? source, Guid sourceId)
    {
        if (source is null) throw new DomainRejection(RejectionKind.NotFound, $"attempt {sourceId} does not exist");
        if (!source.IsTerminal)
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"attempt {sourceId} has not ended (it is {source.Phase.ToString().ToLowerInvariant()}); only an ended attempt can be re-executed");
        if (string.IsNullOrEmpty(source.BundleDigest))
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"attempt {sourceId} never started (no environment, no recorded actions); there is nothing to re-execute");
        return source.BundleDigest;
    }

    /// <summary>The task must be the same bundle the source ran: a changed task would not re-execute the same thing.</summary>
    public static void CheckBundle(AttemptState source, string currentDigest)
    {
        if (!string.Equals(source.BundleDigest, currentDigest, StringComparison.Ordinal))
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"task {source.TaskId} variant {source.Variant} changed since attempt {source.Id} ran: its bundle digest was " +
                $"{source.BundleDigest}, the catalog's is now {currentDigest}; a re-execution would not run the same task");
    }

    /// <summary>The new campaign (one attempt, k = 1) and its attempt, linked to the source.</summary>
    public static (CampaignCreated Campaign, AttemptScheduled Attempt) Plan(
        AttemptState source, Guid campaignId, Guid attemptId, string? requestId, string actor, DateTimeOffset now)
    {
        var settings = new Dictionary<string, string> { [SourceSetting] = source.Id.ToString() };
        var scheduled = new AttemptScheduled(attemptId, campaignId, source.TaskId, source.Variant, ReplayAgent, settings, 0,
            source.TimeBudget, actor, now) { ReexecutionOf = source.Id, AuditWork = true };
        var campaign = new CampaignCreated(campaignId, $"re-execution of attempt {source.Id}",
            [new CampaignTask(source.TaskId, source.Variant)], [new CampaignAgent(ReplayAgent, new Dictionary<string, string>(settings))],
            1, source.TimeBudget, [attemptId], requestId, actor, now) { AuditWork = true };
        return (campaign, scheduled);
    }
}
