using MassTransit;
using ReBench.Contracts;

namespace ReBench.Scoring.Reports;

/// <summary>
/// Keeps the corrections reports apply: one document per AttemptCorrected, keyed by the message's EventId, so a
/// redelivery changes nothing. A correction may arrive before its attempt's result; it is kept and applies once the
/// result is there.
/// </summary>
public sealed class AttemptCorrectedConsumer(IResultsStore store, ILogger<AttemptCorrectedConsumer> logger) : IConsumer<AttemptCorrected>
{
    public async Task Consume(ConsumeContext<AttemptCorrected> context)
    {
        var m = context.Message;
        var stored = await store.RecordCorrectionAsync(new ResultCorrection
        {
            Id = m.EventId, AttemptId = m.AttemptId, Number = m.Number, Kind = m.Kind, Reason = m.Reason, Detail = m.Detail,
            Actor = m.Actor, Role = m.Role, At = m.At,
        }, context.CancellationToken);
        if (!stored) logger.LogDebug("AttemptCorrected {EventId} of attempt {AttemptId} already recorded", m.EventId, m.AttemptId);
    }
}
