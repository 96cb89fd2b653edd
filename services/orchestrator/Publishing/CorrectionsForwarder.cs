using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten.Subscriptions;
using MassTransit;
using ReBench.Contracts;
using ReBench.Orchestrator.Audit;
using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Publishing;

/// <summary>
/// Publishes each recorded correction as <see cref="AttemptCorrected"/>, from the committed event log like
/// <see cref="IntegrationEventForwarder"/>. A subscription of its own on purpose: one that has no recorded progress
/// starts at the beginning of the log, so on a database from before corrections were published, the corrections
/// already recorded are published too (the consumer ignores repeats by event id).
/// </summary>
public sealed class CorrectionsForwarder : SubscriptionBase
{
    private readonly IBus _bus;

    public CorrectionsForwarder(IBus bus)
    {
        _bus = bus;
        IncludeType<AttemptCorrectionRecorded>();
    }

    public override async Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        foreach (var e in page.Events)
        {
            // Its stream is the corrections stream, not the attempt's; the event names the attempt.
            if (e.Data is not AttemptCorrectionRecorded c) continue;
            await _bus.Publish(new AttemptCorrected(e.Id, c.AttemptId, e.Version, c.Kind, c.Reason, c.Detail, c.Actor, c.Role, c.At),
                ctx => ctx.MessageId = e.Id, cancellationToken);
        }
        return NullChangeListener.Instance;
    }
}
