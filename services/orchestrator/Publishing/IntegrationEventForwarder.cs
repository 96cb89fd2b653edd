using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten.Subscriptions;
using MassTransit;
using ReBench.Contracts;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Audit;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Publishing;

/// <summary>
/// Publishes integration events from the committed event log (a Marten subscription on the async daemon), never
/// from the request that appended them: what is on the bus was stored first. The daemon records its progress
/// after each page, so delivery is at least once; the stored event's id is the message id consumers dedupe on.
/// </summary>
public sealed class IntegrationEventForwarder : SubscriptionBase
{
    private readonly IBus _bus;

    public IntegrationEventForwarder(IBus bus)
    {
        _bus = bus;
        IncludeType<AttemptStarted>();
        IncludeType<AttemptCompleted>();
        IncludeType<AttemptFailed>();
        IncludeType<AttemptCancelled>();
    }

    public override async Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        foreach (var e in page.Events)
        {
            var view = await operations.LoadAsync<AttemptView>(e.StreamId, cancellationToken);
            if (view is null) continue;
            object? message = e.Data switch
            {
                AttemptStarted s => new AttemptStartedIntegration(e.Id, view.Id, view.CampaignId, view.TaskId, view.Variant,
                    view.Agent, s.BundleDigest, s.At),
                AttemptCompleted c => await FinishedAsync(e, "completed", c.At, operations, cancellationToken),
                AttemptFailed f => await FinishedAsync(e, "failed", f.At, operations, cancellationToken),
                AttemptCancelled x => await FinishedAsync(e, "cancelled", x.At, operations, cancellationToken),
                _ => null,
            };
            if (message is not null)
                await _bus.Publish(message, message.GetType(), ctx => ctx.MessageId = e.Id, cancellationToken);
        }
        return NullChangeListener.Instance;
    }

    private static async Task<AttemptFinished> FinishedAsync(IEvent e, string status, DateTimeOffset at,
        IDocumentOperations operations, CancellationToken ct)
    {
        // The stream up to this event, so the message describes the attempt as it was when it ended; its number and
        // chain link bind the stored result to the sealed record (SealedResults derives the same message from it).
        var events = await operations.Events.FetchStreamAsync(e.StreamId, version: e.Version, token: ct);
        var state = AttemptEvolver.Fold(events.Select(x => x.Data));
        return SealedResults.Finished(e.Id, state, status, at, e.Version, AuditChain.LinkOf(e) ?? AuditChain.LinkOf(events[^1]));
    }
}

internal sealed class NullChangeListener : IChangeListener
{
    public static readonly NullChangeListener Instance = new();
    public Task AfterCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token) => Task.CompletedTask;
    public Task BeforeCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token) => Task.CompletedTask;
}
