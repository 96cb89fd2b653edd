using ReBench.Replay;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The attempt stream is folded twice: by <see cref="AttemptEvolver"/> on the orchestrator's types, and by
/// <see cref="ReplayFold"/> on the stored JSON (the replay view, offline bundles). Streams decided by
/// <see cref="AttemptDecider"/> and stored as the orchestrator stores them must fold to the same attempt, event by event.
/// </summary>
public sealed class FoldAgreementTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    // Built only for its serializer and event type names, which are what the stored rows are made of; nothing connects.
    private static readonly IDocumentStore Store = DocumentStore.For(o =>
    {
        o.Connection(TestEnv.PostgresConnectionString);
        o.Events.AddEventTypes(AttemptsSetup.EventTypes);
    });

    public static TheoryData<string> Streams() => ["submitted", "budget_exhausted", "failed", "cancelled"];

    [Theory]
    [MemberData(nameof(Streams))]
    public void The_evolver_and_the_replay_fold_agree_after_every_event(string ending)
    {
        var events = Decide(ending);
        var stored = Store.Options.Serializer();
        var names = Store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventType, t => t.EventTypeName);

        var attempt = new AttemptState();
        var replay = new ReplayState();
        for (var i = 0; i < events.Count; i++)
        {
            attempt = AttemptEvolver.Evolve(attempt, events[i]);
            replay = ReplayFold.Evolve(replay, ReplayEvent.Parse(i + 1, names[events[i].GetType()], stored.ToJson(events[i])));

            var at = $"after event {i + 1} ({names[events[i].GetType()]}) of the {ending} stream";
            Assert.True(attempt.Version == replay.Version, at);
            Assert.True(attempt.Id.ToString() == replay.AttemptId, at);
            Assert.True((attempt.TaskId, attempt.Variant, attempt.Agent, attempt.TimeBudget) == (replay.TaskId, replay.Variant, replay.Agent, replay.TimeBudget), at);
            Assert.True(Status(attempt) == replay.Status, $"{at}: {Status(attempt)} vs {replay.Status}");
            Assert.True((attempt.StartedAt, attempt.EndedAt) == (replay.StartedAt, replay.EndedAt), at);
            // An attempt that ends while paused: the evolver keeps the open pause, the replay closes it into the
            // total; both stop the working clock at the pause (compared below), so the pause fields are compared
            // while the attempt runs.
            if (!attempt.IsTerminal) Assert.True((attempt.PausedSince, attempt.PausedTotal) == (replay.PausedSince, replay.PausedTotal), at);
            Assert.True(attempt.ActionCount == replay.Actions, at);
            Assert.True((attempt.ModelCalls, attempt.CostUsd) == (replay.ModelCalls, replay.CostUsd), at);
            Assert.Equal(attempt.Scores.Select(x => (x.StepId, x.Valid, x.RawScore, x.NormalizedScore, x.ElapsedMs, x.InvalidReason)),
                replay.Scores.Select(x => (x.StepId, x.Valid, x.RawScore, x.NormalizedScore, x.ElapsedMs, x.InvalidReason)));
            Assert.True((attempt.Final?.Valid, attempt.Final?.RawScore, attempt.Final?.NormalizedScore) == (replay.FinalValid, replay.FinalRawScore, replay.FinalNormalizedScore), at);
            // Working time: the orchestrator's (pauses excluded) at the time of this event equals the replay's.
            Assert.True(AttemptDecider.ElapsedMs(attempt, replay.AsOf!.Value) == (long)replay.WorkingTime.TotalMilliseconds, at);
        }
    }

    [Fact]
    public void A_status_the_evolver_does_not_reach_is_a_disagreement()
    {
        // Control: the comparison above must be able to fail; a stream the replay reads differently is caught.
        var scheduled = Decide("submitted")[0];
        var attempt = AttemptEvolver.Evolve(new AttemptState(), scheduled);
        var replay = ReplayFold.Evolve(new ReplayState(), ReplayEvent.Parse(1, "attempt_started", "{}"));

        Assert.NotEqual(Status(attempt), replay.Status);
    }

    /// <summary>The replay's status words for the orchestrator's phase.</summary>
    private static string Status(AttemptState s) => s.Phase switch
    {
        AttemptPhase.Scheduled => s.QueuedReason is null ? "scheduled" : "queued",
        AttemptPhase.Running => s.PausedSince is null ? "running" : "paused",
        AttemptPhase.Finalizing => "finalizing",
        AttemptPhase.Completed => "completed",
        AttemptPhase.Failed => "failed",
        AttemptPhase.Cancelled => "cancelled",
        _ => s.Phase.ToString(),
    };

    /// <summary>
    /// An attempt decided step by step: queued, started, a file written and a command run, a model call, a pause and
    /// a resume, an intermediate score, then the given ending.
    /// </summary>
    private static List<object> Decide(string ending)
    {
        var id = Guid.NewGuid();
        var events = new List<object>();
        var s = new AttemptState();
        var now = T0;
        void Apply(Func<AttemptState, object[]> decide, double seconds = 1)
        {
            now = now.AddSeconds(seconds);
            var decided = decide(s);
            Assert.NotEmpty(decided);
            events.AddRange(decided);
            s = AttemptEvolver.Fold(decided, s);
        }

        Apply(_ => [new AttemptScheduled(id, Guid.NewGuid(), "task", "cpu", "scripted", new() { ["k"] = "v" }, 0, TimeSpan.FromMinutes(10), "test", now)]);
        Apply(x => AttemptDecider.Queue(x, "no GPU free", now));
        Apply(x => AttemptDecider.Start(x, new AttemptDecider.StartInfo("env", "local", "node", "1", "sha", "sha", 1, 0, "best", true, "dev"), "test", now));
        Apply(x => AttemptDecider.LaunchAgent(x, now));
        Apply(x => AttemptDecider.RequestAction(x, new ActionRequested(id, "s1", "write_file", null, "a.py", new string('a', 64), 3, "x=1", 0, "agent", now), now));
        Apply(x => AttemptDecider.CompleteAction(x, new ActionCompleted(id, "s1", 0, "", "", false, 0, 5, null, now)));
        Apply(x => AttemptDecider.RequestAction(x, new ActionRequested(id, "s2", "run", "python3 a.py", null, null, 0, null, 60, "agent", now), now));
        Apply(x => AttemptDecider.CompleteAction(x, new ActionCompleted(id, "s2", 1, "out", "err", false, 0, 900, null, now)));
        Apply(x => AttemptDecider.RecordModelCall(x, new ModelCallCompleted(id, "m1", "fake", "m", 100, 20, 5, 0, 0.25, 300, "{}", "{}", now), now));
        Apply(x => AttemptDecider.Pause(x, "p1", "break", "human", now));
        Apply(x => AttemptDecider.Resume(x, "r1", "human", now), seconds: 30);
        Apply(x => AttemptDecider.RequestScore(x, "sc1", "agent", "agent", now));
        Apply(x => AttemptDecider.RecordScore(x, new IntermediateScoreRecorded(id, "sc1", true, 2.5, 0.5, "{}", "{}", null, true, AttemptDecider.ElapsedMs(x, now), now)));
        Apply(x => AttemptDecider.RequestScore(x, "sc2", "agent", "agent", now));
        Apply(x => AttemptDecider.RecordScore(x, new IntermediateScoreRecorded(id, "sc2", false, null, null, "{}", "{}", "invalid_submission", true, AttemptDecider.ElapsedMs(x, now), now)));
        switch (ending)
        {
            case "submitted" or "budget_exhausted":
                if (ending == "submitted") Apply(x => AttemptDecider.Submit(x, "sub", "", "agent", now));
                else Apply(x => AttemptDecider.ExhaustBudget(x, now), seconds: 600);
                Apply(x => AttemptDecider.RecordFinalScore(x, true, 2.5, 0.5, now));
                Apply(x => AttemptDecider.Complete(x, now));
                break;
            case "failed":
                Apply(x => AttemptDecider.Pause(x, "p2", "break", "human", now));
                Apply(x => AttemptDecider.Fail(x, "sandbox lost", now), seconds: 20);
                break;
            default:
                Apply(x => AttemptDecider.Cancel(x, "enough", "human", now));
                break;
        }
        return events;
    }
}
