using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Budgets;

/// <summary>
/// ReserveBudget: decides on the attempt's ledger (and the campaign's total when it has a cap) under the attempt's lock,
/// records the grant as budget_reserved, or, when the call could exceed what is left, ends the attempt cleanly:
/// budget_exhausted naming the budget, the final score, completion. The caller then gets RESOURCE_EXHAUSTED.
/// </summary>
public sealed class BudgetReservations(
    AttemptStore attempts, AttemptLocks locks, AttemptLifecycle lifecycle, BudgetLedgerStore ledgers, TimeProvider time,
    ILogger<BudgetReservations> logger)
{
    public async Task<BudgetGrant> ReserveAsync(Guid attemptId, ReserveBudgetRequest request, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.LoadAsync(attemptId, ct);
        var ledger = await ledgers.LoadAsync(attemptId, ct);
        var limits = BudgetLimits.From(state.AgentSettings);
        var cap = await ledgers.CampaignCapAsync(state.CampaignId, ct);

        using var campaignGate = cap is null ? null : await ledgers.LockCampaignAsync(state.CampaignId, ct);
        var campaignCommitted = cap is null ? 0 : await ledgers.CampaignCommittedAsync(state.CampaignId, ct);
        var decision = BudgetLedger.Reserve(ledger, limits, cap, campaignCommitted, attemptId, request.StepId,
            request.WorstCaseCostUsd, request.WorstCaseTokens, request.ExpireOpen, time.GetUtcNow());
        switch (decision)
        {
            case ReserveDecision.Granted granted:
                state = await attempts.AppendAsync(attemptId, s =>
                {
                    if (granted.Events.Length > 0) AttemptDecider.EnsureActive(s, time.GetUtcNow());
                    return granted.Events;
                }, ct);
                ledger = BudgetLedger.Fold(granted.Events, ledger);
                return new BudgetGrant
                {
                    CostBudgetUsd = limits.CostUsd ?? 0, TokenBudget = limits.Tokens ?? 0,
                    CommittedUsd = ledger.CommittedUsd, CommittedTokens = ledger.CommittedTokens,
                    CampaignCostCapUsd = cap ?? 0,
                    CampaignCommittedUsd = cap is null ? 0 : campaignCommitted + (granted.Events.OfType<BudgetReserved>().Any() ? request.WorstCaseCostUsd : 0),
                };
            case ReserveDecision.Refused refused:
                campaignGate?.Dispose();
                logger.LogInformation("Attempt {Attempt}: reservation {Step} refused: {Detail}", attemptId, request.StepId, refused.Detail);
                AttemptDecider.EnsureActive(state, time.GetUtcNow()); // an attempt already ending answers FAILED_PRECONDITION
                state = await attempts.AppendAsync(attemptId, s => BudgetLedger.Exhaust(s, refused, time.GetUtcNow()), ct);
                await lifecycle.FinalizeLockedAsync(state, CancellationToken.None);
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"attempt {attemptId}: {refused.Detail}; the attempt has ended"));
            default:
                throw new InvalidOperationException($"unknown decision {decision}");
        }
    }
}
