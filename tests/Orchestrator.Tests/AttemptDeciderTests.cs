namespace ReBench.Orchestrator.Tests;

public sealed class AttemptDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Id = Guid.Parse("11111111-1111-1111-1111-111111111111");

    private static AttemptState Scheduled(TimeSpan? budget = null) => AttemptEvolver.Fold(
        [new AttemptScheduled(Id, Guid.NewGuid(), "t", "cpu", "noop", [], 0, budget ?? TimeSpan.FromMinutes(5), "test", T0)]);

    private static readonly AttemptDecider.StartInfo Info = new("env", "local", "node", "1.0", "bundle", "scorer", 2.0, 1.0, "min", true, "dev");

    private static AttemptState Running(TimeSpan? budget = null)
    {
        var s = Scheduled(budget);
        return AttemptEvolver.Fold(AttemptDecider.Start(s, Info, "test", T0), s);
    }

    private static AttemptState Apply(AttemptState s, object[] events) => AttemptEvolver.Fold(events, s);

    [Fact]
    public void Start_sets_the_deadline_from_the_budget()
    {
        var s = Running(TimeSpan.FromMinutes(5));
        Assert.Equal(AttemptPhase.Running, s.Phase);
        Assert.Equal(T0.AddMinutes(5), s.Deadline);
        Assert.Equal(2, s.Version);
    }

    [Fact]
    public void Starting_twice_is_refused()
    {
        var e = Assert.Throws<DomainRejection>(() => AttemptDecider.Start(Running(), Info, "test", T0));
        Assert.Equal(RejectionKind.FailedPrecondition, e.Kind);
    }

    [Fact]
    public void An_action_is_pending_until_its_result_is_recorded()
    {
        var s = Running();
        var request = new ActionRequested(Id, "s1", "run", "true", null, null, 0, null, 10, "agent", T0);
        s = Apply(s, AttemptDecider.RequestAction(s, request, T0.AddSeconds(1)));
        Assert.Equal(StepStatus.Pending, AttemptDecider.Step(s, "s1"));
        Assert.Empty(AttemptDecider.RequestAction(s, request, T0.AddSeconds(2))); // a retry records nothing new

        var result = new ActionCompleted(Id, "s1", 0, "", "", false, 0, 5, null, T0.AddSeconds(2));
        s = Apply(s, AttemptDecider.CompleteAction(s, result));
        Assert.Equal(StepStatus.Done, AttemptDecider.Step(s, "s1"));
        Assert.Empty(AttemptDecider.CompleteAction(s, result)); // and a second result is not recorded
        Assert.Equal(1, s.ActionCount);
    }

    [Fact]
    public void Steps_after_the_deadline_are_refused()
    {
        var s = Running(TimeSpan.FromSeconds(10));
        var request = new ActionRequested(Id, "s1", "run", "true", null, null, 0, null, 10, "agent", T0);
        var e = Assert.Throws<DomainRejection>(() => AttemptDecider.RequestAction(s, request, T0.AddSeconds(10)));
        Assert.Contains("time budget", e.Message);
    }

    [Fact]
    public void A_run_left_pending_across_the_deadline_gets_its_timed_out_result_before_budget_exhausted()
    {
        // An orchestrator outage across the deadline: the request is recorded, its result never was.
        var s = Running(TimeSpan.FromSeconds(40));
        var run = new ActionRequested(Id, "s1", "run", "sleep 30", null, null, 0, null, 30, "agent", T0.AddSeconds(20));
        var write = new ActionRequested(Id, "s2", "write_file", null, "a.txt", "00", 1, "x", 0, "agent", T0.AddSeconds(21));
        s = Apply(s, AttemptDecider.RequestAction(s, run, T0.AddSeconds(20)));
        s = Apply(s, AttemptDecider.RequestAction(s, write, T0.AddSeconds(21)));

        var events = AttemptDecider.ExhaustBudget(s, T0.AddSeconds(45));

        Assert.Equal(3, events.Length);
        var first = Assert.IsType<ActionCompleted>(events[0]);
        Assert.Equal(("s1", AttemptDecider.TimedOutExitCode, true), (first.StepId, first.ExitCode, first.TimedOut));
        Assert.Equal(20_000, first.DurationMs); // from the request to the deadline
        Assert.StartsWith("interrupted", first.Error);
        var second = Assert.IsType<ActionCompleted>(events[1]);
        Assert.Equal(("s2", -1, false), (second.StepId, second.ExitCode, second.TimedOut));
        Assert.IsType<BudgetExhausted>(events[2]);
        s = Apply(s, events);
        Assert.Empty(s.PendingSteps);
        Assert.Equal(StepStatus.Done, AttemptDecider.Step(s, "s1"));
        Assert.Equal(AttemptPhase.Finalizing, s.Phase);
    }

    [Fact]
    public void A_run_whose_result_was_recorded_gets_no_second_result_at_the_deadline()
    {
        // Control: the fault-free path recorded the step's result (its Act held the lock); the deadline adds only its own event.
        var s = Running(TimeSpan.FromSeconds(40));
        var run = new ActionRequested(Id, "s1", "run", "sleep 30", null, null, 0, null, 20, "agent", T0.AddSeconds(20));
        s = Apply(s, AttemptDecider.RequestAction(s, run, T0.AddSeconds(20)));
        s = Apply(s, AttemptDecider.CompleteAction(s, new ActionCompleted(Id, "s1", 124, "", "", true, 0, 20_000, null, T0.AddSeconds(40))));
        // A pending score step is not an action: it gets no action result.
        s = Apply(s, AttemptDecider.RequestScore(s, "score-1", "agent", "agent", T0.AddSeconds(39)));

        Assert.IsType<BudgetExhausted>(Assert.Single(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(40))));
    }

    [Fact]
    public void Budget_exhaustion_only_happens_after_the_deadline()
    {
        var s = Running(TimeSpan.FromSeconds(10));
        Assert.Empty(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(9)));
        s = Apply(s, AttemptDecider.ExhaustBudget(s, T0.AddSeconds(10)));
        Assert.Equal(AttemptPhase.Finalizing, s.Phase);
        Assert.Equal("budget_exhausted", s.EndReason);
        Assert.Empty(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(11)));
    }

    [Fact]
    public void Submit_then_final_score_then_completion()
    {
        var s = Running();
        s = Apply(s, AttemptDecider.Submit(s, "sub", "", "agent", T0.AddSeconds(5)));
        Assert.Equal(AttemptPhase.Finalizing, s.Phase);
        Assert.Empty(AttemptDecider.Complete(s, T0)); // no completion without a final score
        Assert.Empty(AttemptDecider.Submit(s, "sub", "", "agent", T0.AddSeconds(6))); // the same submit again is a no-op
        s = Apply(s, AttemptDecider.RecordFinalScore(s, valid: false, raw: null, normalized: double.NaN, T0.AddSeconds(7)));
        Assert.Equal(0, s.Final!.NormalizedScore); // no valid score is reported as normalized 0
        Assert.False(s.Final.Valid);
        s = Apply(s, AttemptDecider.Complete(s, T0.AddSeconds(8)));
        Assert.Equal(AttemptPhase.Completed, s.Phase);
        Assert.Equal("submitted", s.EndReason);
    }

    [Fact]
    public void An_ended_attempt_refuses_every_step()
    {
        var s = Running();
        s = Apply(s, AttemptDecider.Cancel(s, "operator", "admin", T0.AddSeconds(1)));
        Assert.Equal(AttemptPhase.Cancelled, s.Phase);
        var act = new ActionRequested(Id, "s1", "run", "true", null, null, 0, null, 10, "agent", T0);
        Assert.Throws<DomainRejection>(() => AttemptDecider.RequestAction(s, act, T0.AddSeconds(2)));
        Assert.Throws<DomainRejection>(() => AttemptDecider.RequestScore(s, "s2", "agent", "agent", T0.AddSeconds(2)));
        Assert.Throws<DomainRejection>(() => AttemptDecider.Submit(s, "s3", "", "agent", T0.AddSeconds(2)));
        Assert.Throws<DomainRejection>(() => AttemptDecider.Cancel(s, "again", "admin", T0.AddSeconds(2)));
        Assert.Empty(AttemptDecider.Fail(s, "late failure", T0.AddSeconds(3)));
    }

    [Fact]
    public void The_final_score_can_be_taken_after_the_deadline()
    {
        var s = Running(TimeSpan.FromSeconds(1));
        s = Apply(s, AttemptDecider.ExhaustBudget(s, T0.AddSeconds(2)));
        var events = AttemptDecider.RequestScore(s, "final", "final", "orchestrator", T0.AddSeconds(3));
        Assert.IsType<ScoreRequested>(Assert.Single(events));
    }

    [Fact]
    public void Paused_time_does_not_count_against_the_budget()
    {
        var s = Running(TimeSpan.FromSeconds(60));
        s = Apply(s, AttemptDecider.Pause(s, "p1", "rate limit", "agent", T0.AddSeconds(10)));
        Assert.Empty(AttemptDecider.Pause(s, "p2", "again", "agent", T0.AddSeconds(11))); // already paused
        Assert.Empty(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(100))); // the clock is stopped
        Assert.Equal(10_000, AttemptDecider.ElapsedMs(s, T0.AddSeconds(100)));

        s = Apply(s, AttemptDecider.Resume(s, "r1", "agent", T0.AddSeconds(100)));
        Assert.Equal(T0.AddSeconds(150), s.Deadline); // 90 s paused moves the deadline by 90 s
        Assert.Equal(TimeSpan.FromSeconds(90), s.PausedTotal);
        Assert.Equal(20_000, AttemptDecider.ElapsedMs(s, T0.AddSeconds(110)));
        Assert.Empty(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(149)));
        Assert.Single(AttemptDecider.ExhaustBudget(s, T0.AddSeconds(150)));
        Assert.Empty(AttemptDecider.Resume(s, "r1", "agent", T0.AddSeconds(120))); // retried resume: no-op
    }

    [Fact]
    public void A_queued_attempt_records_each_distinct_reason_once()
    {
        var s = Scheduled();
        s = Apply(s, AttemptDecider.Queue(s, "2 GPUs of model H100 requested, 0 free", T0));
        Assert.Empty(AttemptDecider.Queue(s, "2 GPUs of model H100 requested, 0 free", T0.AddSeconds(1)));
        Assert.Single(AttemptDecider.Queue(s, "2 GPUs of model H100 requested, 1 free", T0.AddSeconds(2)));
        s = AttemptEvolver.Fold(AttemptDecider.Start(s, Info, "test", T0.AddSeconds(3)), s);
        Assert.Null(s.QueuedReason);
        Assert.Empty(AttemptDecider.Queue(s, "late", T0.AddSeconds(4))); // a started attempt is not queued
    }

    [Fact]
    public void Model_calls_accumulate_cost_once_each()
    {
        var s = Running();
        var call = new ModelCallCompleted(Id, "m1", "openai", "gpt", 10, 5, 0, 0, 0.25, 100, "{}", "{}", T0);
        s = Apply(s, AttemptDecider.RecordModelCall(s, call, T0.AddSeconds(1)));
        Assert.Empty(AttemptDecider.RecordModelCall(s, call, T0.AddSeconds(2)));
        Assert.Equal(0.25, s.CostUsd);
        Assert.Equal(1, s.ModelCalls);
    }
}
