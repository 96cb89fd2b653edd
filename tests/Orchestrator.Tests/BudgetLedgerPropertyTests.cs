using ReBench.Orchestrator.Budgets;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Property tests of the budget ledger: a simulated driver reserves, calls and settles against a stream of events,
/// with random call costs, random crashes between reserve and settle (the provider may or may not have billed the
/// call), lost answers and retried steps, and restarts that refold the ledger from the stream. The provider's true
/// bill must never pass the budget by more than one call's actual cost.
/// </summary>
public sealed class BudgetLedgerPropertyTests
{
    private static readonly Guid Attempt = Guid.Parse("00000000-0000-0000-0000-0000000000a1");
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z");

    /// <summary>One attempt's stream and the provider's view of what was really billed.</summary>
    private sealed class World(Guid attempt)
    {
        public readonly List<object> Stream = [];
        private readonly HashSet<string> _recordedCalls = [];
        public double TrueCostUsd;
        public long TrueTokens;
        public double MaxActualUsd;
        public long MaxActualTokens;
        public int Steps;
        public Guid Id { get; } = attempt;

        public LedgerState Ledger => BudgetLedger.Fold(Stream);

        /// <summary>RecordModelCall: the orchestrator records a step id once (step-id idempotency).</summary>
        public void Settle(string callStep, string reservation, double cost, long input, long output)
        {
            if (!_recordedCalls.Add(callStep)) return;
            Stream.Add(new ModelCallCompleted(Id, callStep, "p", "m", input, output, 0, 0, cost, 1, "{}", "{}", T0) { ReservationStepId = reservation });
        }

        public void Bill(double cost, long tokens)
        {
            TrueCostUsd += cost;
            TrueTokens += tokens;
            MaxActualUsd = Math.Max(MaxActualUsd, cost);
            MaxActualTokens = Math.Max(MaxActualTokens, tokens);
        }
    }

    /// <summary>A driver incarnation: it dies at random points; a new one continues after the recorded step ids.</summary>
    private static ReserveDecision Reserve(World w, BudgetLimits limits, double? cap, Func<double> campaignCommitted,
        string step, double worst, long worstTokens, bool expire)
    {
        var d = BudgetLedger.Reserve(w.Ledger, limits, cap, campaignCommitted(), w.Id, step, worst, worstTokens, expire, T0);
        if (d is ReserveDecision.Granted g) w.Stream.AddRange(g.Events);
        return d;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Never_over_budget_by_more_than_one_call_across_crashes_and_retries(int seed)
    {
        var rng = new Random(seed);
        var totalSteps = 0;
        for (var run = 0; run < 250; run++)
        {
            var w = new World(Attempt);
            var limits = new BudgetLimits(rng.NextDouble() < 0.9 ? 1 + (rng.NextDouble() * 60) : null,
                rng.NextDouble() < 0.5 ? rng.Next(5_000, 400_000) : null);
            if (limits is { CostUsd: null, Tokens: null }) limits = limits with { CostUsd = 5 };
            var next = 0;
            var expire = true; // a fresh run's first reservation
            var refused = false;
            while (!refused && w.Steps < 2_000)
            {
                w.Steps++;
                var worst = 0.01 + (rng.NextDouble() * 3);
                var worstTokens = (long)rng.Next(100, 20_000);
                var step = $"{Attempt}:{++next}";
                var d = Reserve(w, limits, null, () => 0, step, worst, worstTokens, expire);
                // A lost answer: the driver retries the same step and must get the same grant, nothing recorded twice.
                if (rng.NextDouble() < 0.1 && d is ReserveDecision.Granted)
                {
                    var before = w.Stream.Count;
                    Assert.IsType<ReserveDecision.Granted>(Reserve(w, limits, null, () => 0, step, worst, worstTokens, expire));
                    Assert.Equal(before, w.Stream.Count);
                }
                if (d is ReserveDecision.Refused r)
                {
                    refused = true;
                    var ledger = w.Ledger;
                    Assert.True(r.Budget == "cost" ? ledger.CommittedUsd + worst > limits.CostUsd : ledger.CommittedTokens + worstTokens > limits.Tokens,
                        $"refused without cause: {r.Detail}");
                    break;
                }
                expire = false;
                var fate = rng.NextDouble();
                // Actual within the worst case, except now and then an estimate that was too low (settled calls only).
                var over = rng.NextDouble() < 0.05 ? 1 + (rng.NextDouble() * 0.2) : rng.NextDouble();
                if (fate < 0.1)
                {
                    expire = true; // crash before the call: nothing billed, the reservation stays open
                }
                else if (fate < 0.2)
                {
                    w.Bill(worst * rng.NextDouble(), (long)(worstTokens * rng.NextDouble())); // billed, never recorded
                    expire = true;
                }
                else
                {
                    var cost = worst * over;
                    var tokens = (long)(worstTokens * over);
                    w.Bill(cost, tokens);
                    var callStep = $"{Attempt}:{++next}";
                    var input = tokens / 2;
                    w.Settle(callStep, step, cost, input, tokens - input);
                    if (rng.NextDouble() < 0.1) w.Settle(callStep, step, cost, input, tokens - input); // a retried record
                }
                Check(w, limits);
            }
            Check(w, limits);
            totalSteps += w.Steps;
        }
        Assert.True(totalSteps > 5_000, $"only {totalSteps} steps simulated");
    }

    private static void Check(World w, BudgetLimits limits)
    {
        if (limits.CostUsd is { } b)
            Assert.True(w.TrueCostUsd <= b + w.MaxActualUsd + 1e-9, $"billed {w.TrueCostUsd} > budget {b} + one call {w.MaxActualUsd}");
        if (limits.Tokens is { } t)
            Assert.True(w.TrueTokens <= t + w.MaxActualTokens, $"used {w.TrueTokens} tokens > budget {t} + one call {w.MaxActualTokens}");
        // The ledger never forgets a bill: settled calls at their actual, open and expired ones at their worst case.
        var ledger = w.Ledger;
        Assert.True(ledger.CommittedUsd + 1e-9 >= w.TrueCostUsd, $"ledger {ledger.CommittedUsd} USD lost track of billed {w.TrueCostUsd}");
        Assert.True(ledger.CommittedTokens >= w.TrueTokens, $"ledger {ledger.CommittedTokens} tokens lost track of used {w.TrueTokens}");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void A_campaign_cap_shared_by_interleaved_attempts_is_never_passed(int seed)
    {
        var rng = new Random(seed);
        for (var run = 0; run < 100; run++)
        {
            var worlds = Enumerable.Range(0, 3).Select(i => new World(Guid.NewGuid())).ToArray();
            var cap = 2 + (rng.NextDouble() * 30);
            var limits = new BudgetLimits(null, null);
            var next = new int[worlds.Length];
            var expire = new[] { true, true, true };
            var open = new Dictionary<int, (string Step, double Worst)>();
            var ended = new bool[worlds.Length];
            double Committed() => worlds.Sum(x => x.Ledger.CommittedUsd);
            for (var i = 0; i < 3_000 && ended.Any(e => !e); i++)
            {
                var k = rng.Next(worlds.Length);
                if (ended[k]) continue;
                var w = worlds[k];
                if (open.Remove(k, out var call))
                {
                    // The call in flight finishes (settled) or its run dies (billed or not, never recorded).
                    var fate = rng.NextDouble();
                    var actual = call.Worst * rng.NextDouble();
                    if (fate < 0.1) { expire[k] = true; }
                    else if (fate < 0.2) { w.Bill(actual, 0); expire[k] = true; }
                    else { w.Bill(actual, 0); w.Settle($"{w.Id}:{++next[k]}", call.Step, actual, 10, 10); }
                }
                else
                {
                    var worst = 0.01 + (rng.NextDouble() * 2);
                    var step = $"{w.Id}:{++next[k]}";
                    var d = Reserve(w, limits, cap, Committed, step, worst, 100, expire[k]);
                    if (d is ReserveDecision.Refused r)
                    {
                        Assert.Equal("campaign_cost_cap", r.Budget);
                        Assert.True(Committed() + worst > cap);
                        ended[k] = true;
                    }
                    else
                    {
                        expire[k] = false;
                        open[k] = (step, worst);
                    }
                }
                var billed = worlds.Sum(x => x.TrueCostUsd);
                Assert.True(billed <= cap + 1e-9, $"campaign billed {billed} > cap {cap}");
                Assert.True(Committed() + 1e-9 >= billed, "the campaign's ledgers lost track of a bill");
            }
        }
    }

    [Fact]
    public void Expiring_keeps_the_worst_case_and_a_refusal_ends_the_attempt_with_the_budget_named()
    {
        var w = new World(Attempt);
        var limits = new BudgetLimits(1.0, null);
        Assert.IsType<ReserveDecision.Granted>(Reserve(w, limits, null, () => 0, "a:1", 0.6, 10, expire: true));
        // The run dies; the next one expires the open reservation at its worst case and cannot fit another 0.6.
        var refused = Assert.IsType<ReserveDecision.Refused>(Reserve(w, limits, null, () => 0, "a:2", 0.6, 10, expire: true));
        Assert.Equal("cost", refused.Budget);
        Assert.Contains("cost budget exhausted", refused.Detail);
        var granted = Assert.IsType<ReserveDecision.Granted>(Reserve(w, limits, null, () => 0, "a:3", 0.3, 10, expire: true));
        Assert.Contains(granted.Events, e => e is BudgetReservationExpired { StepId: "a:1", ChargedCostUsd: 0.6 });
        Assert.Equal(0.9, w.Ledger.CommittedUsd, 9);
        Assert.Equal(0.6, w.Ledger.SpentUsd, 9);

        var running = AttemptEvolver.Fold([
            new AttemptScheduled(Attempt, Guid.NewGuid(), "t", "", "modular", [], 0, TimeSpan.FromHours(1), "x", T0),
            new AttemptStarted(Attempt, "e", "local", "n", "1", "d", "d", 0, 1, "max", true, T0.AddHours(1), "v", "x", T0),
        ]);
        var ended = BudgetLedger.Exhaust(running, refused, T0.AddMinutes(5));
        var exhausted = Assert.IsType<BudgetExhausted>(Assert.Single(ended));
        Assert.Equal("cost", exhausted.Budget);
        Assert.Equal(AttemptPhase.Finalizing, AttemptEvolver.Fold(ended, running).Phase);
        Assert.Equal("budget_exhausted", AttemptEvolver.Fold(ended, running).EndReason);
    }

    [Fact]
    public void Limits_come_from_the_agent_settings()
    {
        Assert.Equal(new BudgetLimits(2.5, 1000), BudgetLimits.From(new Dictionary<string, string> { ["cost_budget_usd"] = "2.5", ["token_budget"] = "1000" }));
        Assert.Equal(new BudgetLimits(null, null), BudgetLimits.From(new Dictionary<string, string> { ["cost_budget_usd"] = "x", ["token_budget"] = "0" }));
    }
}
