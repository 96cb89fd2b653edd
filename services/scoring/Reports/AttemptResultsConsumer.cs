using MassTransit;
using ReBench.Contracts;

namespace ReBench.Scoring.Reports;

/// <summary>
/// Keeps the results store: one document per AttemptFinished, keyed by the message's EventId. The bus delivers at
/// least once, so a redelivered message (same EventId, or the same attempt) is recognized and changes nothing.
/// </summary>
public sealed class AttemptResultsConsumer(IResultsStore store, TimeProvider time, ILogger<AttemptResultsConsumer> logger)
    : IConsumer<AttemptFinished>
{
    public async Task Consume(ConsumeContext<AttemptFinished> context)
    {
        var stored = await store.RecordAsync(ToResult(context.Message, time.GetUtcNow()), context.CancellationToken);
        if (!stored) logger.LogDebug("AttemptFinished {EventId} of attempt {AttemptId} already recorded", context.Message.EventId, context.Message.AttemptId);
    }

    public static AttemptResult ToResult(AttemptFinished m, DateTimeOffset now) => new()
    {
        Id = m.EventId,
        AttemptId = m.AttemptId,
        CampaignId = m.CampaignId,
        TaskId = m.TaskId,
        Variant = m.Variant,
        Agent = m.Agent,
        Status = m.Status,
        RawScore = m.RawScore,
        NormalizedScore = m.NormalizedScore,
        Valid = m.FinalScoreValid,
        TimeBudgetSeconds = m.TimeBudgetSeconds,
        WorkingSeconds = m.WorkingSeconds,
        CostUsd = m.CostUsd,
        CostBasis = CostBasis.ModelCalls,
        ModelCalls = m.ModelCalls,
        Timeline = (m.ScoreTimeline ?? []).Select(p => new ResultPoint(p.ElapsedMs, p.Valid, p.RawScore, p.NormalizedScore)).ToList(),
        FinishedAt = m.FinishedAt,
        RecordedAt = now,
        Source = AttemptResult.OrchestratorSource,
        FinalVersion = m.FinalVersion > 0 ? m.FinalVersion : null,
        ChainHash = string.IsNullOrEmpty(m.ChainHash) ? null : m.ChainHash,
        AuditWork = m.AuditWork,
    };
}
