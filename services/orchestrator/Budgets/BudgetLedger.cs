using System.Collections.Immutable;
using System.Globalization;
using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Budgets;

/// <summary>A model call's worst case held against the budgets until the call is recorded (settled) or expired.</summary>
public sealed record BudgetReserved(Guid AttemptId, string StepId, double WorstCaseCostUsd, long WorstCaseTokens, DateTimeOffset At);

/// <summary>
/// A reservation whose call's fate is unknown (its run died between reserving and recording): charged at its worst
/// case for good, so the cost the provider may have billed is never forgotten.
/// </summary>
public sealed record BudgetReservationExpired(Guid AttemptId, string StepId, double ChargedCostUsd, long ChargedTokens, string Reason, DateTimeOffset At);

/// <summary>Per-attempt spending limits, from the agent settings (the names AttemptProvenance records too).</summary>
public sealed record BudgetLimits(double? CostUsd, long? Tokens)
{
    public static readonly string[] CostSettings = ["cost_budget_usd", "max_cost_usd"];
    public static readonly string[] TokenSettings = ["token_budget", "max_total_tokens"];

    public static BudgetLimits From(IReadOnlyDictionary<string, string> settings)
    {
        double? cost = First(settings, CostSettings) is { } c && double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var usd) && usd > 0 ? usd : null;
        long? tokens = First(settings, TokenSettings) is { } t && long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
        return new(cost, tokens);
    }

    private static string? First(IReadOnlyDictionary<string, string> s, string[] names) =>
        names.Select(n => s.GetValueOrDefault(n)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}

/// <summary>What an attempt has spent and holds: folded from its events, so it survives any restart.</summary>
public sealed record LedgerState
{
    /// <summary>Actual cost of every recorded call plus the worst case of every expired reservation.</summary>
    public double SpentUsd { get; init; }
    public long SpentTokens { get; init; }
    public ImmutableDictionary<string, BudgetReserved> Open { get; init; } = ImmutableDictionary<string, BudgetReserved>.Empty;
    /// <summary>Reservations settled or expired: a retried reserve of one of these grants nothing new.</summary>
    public ImmutableHashSet<string> Closed { get; init; } = ImmutableHashSet<string>.Empty;
    public long Version { get; init; }

    public double CommittedUsd => SpentUsd + Open.Values.Sum(r => r.WorstCaseCostUsd);
    public long CommittedTokens => SpentTokens + Open.Values.Sum(r => r.WorstCaseTokens);
}

public abstract record ReserveDecision
{
    /// <summary>Granted: the events to append (none for a retried step already granted).</summary>
    public sealed record Granted(object[] Events) : ReserveDecision;

    /// <summary>Refused: <paramref name="Budget"/> is cost, tokens or campaign_cost_cap.</summary>
    public sealed record Refused(string Budget, string Detail) : ReserveDecision;
}

/// <summary>
/// The budget ledger, a pure decider (reserve, settle, expire). A call is granted only when everything committed
/// (settled actual cost, open reservations at their worst case) plus its own worst case stays within each limit;
/// settling replaces the worst case by the actual. Since a granted call never commits more than is left, the budget
/// is overshot at most by what the last call costs beyond its worst case, less than that call's actual cost. A
/// reservation left open by a crash keeps counting at its worst case until it is settled or expired.
/// </summary>
public static class BudgetLedger
{
    public static LedgerState Fold(IEnumerable<object> events, LedgerState? seed = null) =>
        events.Aggregate(seed ?? new LedgerState(), Evolve);

    public static LedgerState Evolve(LedgerState s, object e) => (e switch
    {
        BudgetReserved r => s with { Open = s.Open.SetItem(r.StepId, r) },
        // Settling: an open reservation is replaced by the actual; an unreserved call (a driver without budgets) just adds.
        ModelCallCompleted c => Settle(s, c),
        BudgetReservationExpired x when s.Open.ContainsKey(x.StepId) => s with
        {
            Open = s.Open.Remove(x.StepId), Closed = s.Closed.Add(x.StepId),
            SpentUsd = s.SpentUsd + x.ChargedCostUsd, SpentTokens = s.SpentTokens + x.ChargedTokens,
        },
        _ => s,
    }) with { Version = s.Version + 1 };

    private static LedgerState Settle(LedgerState s, ModelCallCompleted c)
    {
        var next = s with { SpentUsd = s.SpentUsd + c.CostUsd, SpentTokens = s.SpentTokens + c.InputTokens + c.OutputTokens };
        if (c.ReservationStepId is { } id && s.Open.ContainsKey(id))
            next = next with { Open = s.Open.Remove(id), Closed = s.Closed.Add(id) };
        return next;
    }

    /// <param name="campaignCapUsd">The campaign's cost cap, if any.</param>
    /// <param name="campaignCommittedUsd">Committed by all the campaign's attempts, this one included.</param>
    public static ReserveDecision Reserve(
        LedgerState s, BudgetLimits limits, double? campaignCapUsd, double campaignCommittedUsd,
        Guid attemptId, string stepId, double worstCostUsd, long worstTokens, bool expireOpen, DateTimeOffset now)
    {
        if (s.Open.ContainsKey(stepId) || s.Closed.Contains(stepId)) return new ReserveDecision.Granted([]);
        var events = new List<object>();
        if (expireOpen)
        {
            // Expiring charges exactly the worst case already counted: the committed totals do not change.
            events.AddRange(s.Open.Values.OrderBy(r => r.At).Select(r => new BudgetReservationExpired(
                attemptId, r.StepId, r.WorstCaseCostUsd, r.WorstCaseTokens, "left open by a run that ended before recording the call", now)));
        }
        if (limits.CostUsd is { } cost && s.CommittedUsd + worstCostUsd > cost)
            return new ReserveDecision.Refused("cost", Describe("cost budget", s.CommittedUsd, worstCostUsd, cost, "USD"));
        if (limits.Tokens is { } tokens && s.CommittedTokens + worstTokens > tokens)
            return new ReserveDecision.Refused("tokens", Describe("token budget", s.CommittedTokens, worstTokens, tokens, "tokens"));
        if (campaignCapUsd is { } cap && campaignCommittedUsd + worstCostUsd > cap)
            return new ReserveDecision.Refused("campaign_cost_cap", Describe("campaign cost cap", campaignCommittedUsd, worstCostUsd, cap, "USD"));
        events.Add(new BudgetReserved(attemptId, stepId, worstCostUsd, worstTokens, now));
        return new ReserveDecision.Granted([.. events]);
    }

    /// <summary>Ends a running attempt whose reservation was refused; the reason names the budget.</summary>
    public static object[] Exhaust(AttemptState s, ReserveDecision.Refused refused, DateTimeOffset now) =>
        s.Phase == AttemptPhase.Running
            ? [new BudgetExhausted(s.Id, s.Deadline ?? now, now) { Budget = refused.Budget, Detail = refused.Detail }]
            : [];

    private static string Describe(string what, double committed, double requested, double limit, string unit) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{what} exhausted: {committed:0.######} {unit} committed + {requested:0.######} {unit} worst case for the next call > {limit:0.######} {unit}");
}
