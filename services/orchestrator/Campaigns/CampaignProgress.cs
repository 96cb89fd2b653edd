using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten.Subscriptions;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// Records each attempt's end on its campaign's stream, and completes the campaign after the last one, from the
/// orchestrator's own committed log (a Marten subscription on the async daemon, beside the one that publishes to the
/// bus). The bus round trip this replaces delivered every deployment's messages and had to filter them; the log holds
/// only this platform's attempts. The daemon delivers at least once: the stored event's id makes a redelivery a no-op
/// (<see cref="CampaignDecider.RecordAttemptFinished"/>). What a lost page leaves missing, <see cref="CampaignReconciler"/>
/// records.
/// </summary>
public sealed class CampaignProgress : SubscriptionBase
{
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;

    // The store is resolved when a page arrives, not here: the subscription is built with the document store, which
    // the campaign store needs, and resolving it here waits on the document store being built (a deadlock at start).
    public CampaignProgress(IServiceProvider services, TimeProvider time)
    {
        _services = services;
        _time = time;
        IncludeType<AttemptCompleted>();
        IncludeType<AttemptFailed>();
        IncludeType<AttemptCancelled>();
    }

    public override async Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        var campaigns = _services.GetRequiredService<CampaignStore>();
        foreach (var e in page.Events)
        {
            if (CampaignReconciler.Status(e) is not { } status) continue;
            // The view is written in the transaction of the attempt's end; its final score no longer changes.
            var view = await operations.LoadAsync<AttemptView>(e.StreamId, cancellationToken);
            if (view is null || await campaigns.TryLoadAsync(view.CampaignId, cancellationToken) is null) continue;
            await campaigns.AppendAsync(view.CampaignId,
                s => CampaignDecider.RecordAttemptFinished(s, view.Id, e.Id, status, view.NormalizedScore, _time.GetUtcNow()),
                cancellationToken);
        }
        return NoChanges.Instance;
    }

    private sealed class NoChanges : IChangeListener
    {
        public static readonly NoChanges Instance = new();
        public Task AfterCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token) => Task.CompletedTask;
        public Task BeforeCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token) => Task.CompletedTask;
    }
}
