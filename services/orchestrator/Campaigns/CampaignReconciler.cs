using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// At start and every <c>Orchestrator:ReconcileIntervalSeconds</c>, derives from the log what it implies but is
/// missing: an attempt of an uncompleted campaign that has ended, with no <c>campaign_attempt_finished</c> for it,
/// gets one, and the campaign whose last attempt that was gets <c>campaign_completed</c> and its seal (the same
/// decision and append <see cref="CampaignProgress"/> makes). Normally CampaignProgress records each end within a
/// moment; this catches what it lost (a page that failed on a connection a PostgreSQL restart killed, an event the
/// daemon skipped). Exactly once however the two race: both append through the campaign store's versioned append,
/// and <see cref="CampaignDecider.RecordAttemptFinished"/> records an attempt once (by attempt and by source event),
/// so the loser of a race decides again on the winner's state and appends nothing.
/// </summary>
public sealed class CampaignReconciler(
    IDocumentStore store,
    CampaignStore campaigns,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<CampaignReconciler> logger) : PeriodicRounds(options, time, logger)
{
    protected override string RoundName => "Campaign reconciliation";

    protected override Task RoundAsync(CancellationToken ct) => ReconcileAsync(ct);

    /// <summary>One round; returns how many attempt ends it recorded (each one the log implied but lacked).</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var recorded = 0;
        foreach (var campaignId in await UncompletedAsync(ct))
        {
            var state = await campaigns.TryLoadAsync(campaignId, ct);
            if (state is null || state.Completed || state.Sealed) continue;
            var open = state.AttemptIds.Where(a => !state.FinishedAttempts.Contains(a)).ToList();
            if (open.Count == 0) continue;
            await using var session = store.QuerySession();
            var views = (await session.LoadManyAsync<AttemptView>(ct, open)).ToDictionary(v => v.Id);
            foreach (var attemptId in open)
            {
                if (views.GetValueOrDefault(attemptId) is not { } view || !IsEnded(view.Phase)) continue;
                if (await TerminalEventAsync(session, attemptId, ct) is not { } end) continue;
                var appended = false;
                await campaigns.AppendAsync(campaignId, s =>
                {
                    var events = CampaignDecider.RecordAttemptFinished(s, attemptId, end.Id, end.Status, view.NormalizedScore, Time.GetUtcNow());
                    appended = events.Length > 0;
                    return events;
                }, ct);
                if (!appended) continue;
                recorded++;
                Logger.LogWarning("Campaign {CampaignId}: recorded the end of attempt {AttemptId} ({Status}), which the log implied but the campaign lacked",
                    campaignId, attemptId, end.Status);
            }
        }
        return recorded;
    }

    private static bool IsEnded(AttemptPhase phase) => phase is AttemptPhase.Completed or AttemptPhase.Failed or AttemptPhase.Cancelled;

    /// <summary>
    /// Campaign streams with no <c>campaign_completed</c>. One query over the event table's types; a campaign that
    /// completed drops out, so the work of a round follows the campaigns in flight, not the history.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> UncompletedAsync(CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var session = store.QuerySession();
        return await session.AdvancedSql.QueryAsync<Guid>(
            $"select c.stream_id from \"{schema}\".mt_events c where c.type = 'campaign_created' and not exists " +
            $"(select 1 from \"{schema}\".mt_events d where d.stream_id = c.stream_id and d.type = 'campaign_completed')", ct);
    }

    /// <summary>The attempt's ending event (its id is what CampaignProgress records as the source) and its status word.</summary>
    private static async Task<(Guid Id, string Status)?> TerminalEventAsync(IQuerySession session, Guid attemptId, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(attemptId, token: ct);
        for (var i = events.Count - 1; i >= 0; i--)
        {
            if (Status(events[i]) is { } status) return (events[i].Id, status);
        }
        return null;
    }

    /// <summary>The status word CampaignProgress records for an ending event; null for any other event.</summary>
    public static string? Status(IEvent e) => e.Data switch
    {
        AttemptCompleted => "completed",
        AttemptFailed => "failed",
        AttemptCancelled => "cancelled",
        _ => null,
    };
}
