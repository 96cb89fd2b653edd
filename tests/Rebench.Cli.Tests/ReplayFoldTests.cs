using ReBench.Replay;

namespace ReBench.Cli.Tests;

/// <summary>The replay view's pure fold: state as of event N from the stored event bodies.</summary>
public sealed class ReplayFoldTests
{
    public const string AttemptId = "33333333-3333-3333-3333-333333333333";
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static string Sha(char c) => new(c, 64);

    /// <summary>A small attempt: write, run, model call, pause 30 s, rewrite the file, score, submit, final, complete.</summary>
    public static List<(string Type, string Json)> Attempt()
    {
        string J(object o) => JsonSerializer.Serialize(o);
        return
        [
            ("attempt_scheduled", J(new { AttemptId, TaskId = "t1", Variant = "cpu", Agent = "scripted", TimeBudget = "00:10:00", At = T0 })),
            ("attempt_started", J(new { AttemptId, At = T0.AddSeconds(1) })),                                                        // 2
            ("action_requested", J(new { AttemptId, StepId = "s1", Kind = "write_file", Path = "a.py", ContentSha256 = Sha('a'), ContentSize = 10, At = T0.AddSeconds(2) })),
            ("action_completed", J(new { AttemptId, StepId = "s1", ExitCode = 0, Stdout = "", Stderr = "", At = T0.AddSeconds(3) })),
            ("action_requested", J(new { AttemptId, StepId = "s2", Kind = "run", Command = "python3 a.py", At = T0.AddSeconds(4) })),    // 5
            ("action_completed", J(new { AttemptId, StepId = "s2", ExitCode = 1, Stdout = "hello\nworld", Stderr = "", DurationMs = 900, At = T0.AddSeconds(5) })),
            ("model_call_completed", J(new { AttemptId, StepId = "m1", Provider = "fake", Model = "m", InputTokens = 100, OutputTokens = 20, ReasoningTokens = 5, CostUsd = 0.25, At = T0.AddSeconds(6) })),
            ("attempt_paused", J(new { AttemptId, StepId = "p1", Reason = "break", At = T0.AddSeconds(11) })),                        // 8
            ("attempt_resumed", J(new { AttemptId, StepId = "r1", PausedFor = "00:00:30", At = T0.AddSeconds(41) })),
            ("action_requested", J(new { AttemptId, StepId = "s3", Kind = "write_file", Path = "a.py", ContentSha256 = Sha('b'), ContentSize = 12, At = T0.AddSeconds(42) })), // 10
            ("model_call_completed", J(new { AttemptId, StepId = "m2", Provider = "fake", Model = "m", InputTokens = 50, OutputTokens = 10, CostUsd = 0.5, At = T0.AddSeconds(43) })),
            ("intermediate_score_recorded", J(new { AttemptId, StepId = "sc1", Valid = true, RawScore = 2.5, NormalizedScore = 0.5, ElapsedMs = 12000, At = T0.AddSeconds(44) })),
            ("submission_received", J(new { AttemptId, StepId = "sub", Submission = "", At = T0.AddSeconds(45) })),                 // 13
            ("final_score_recorded", J(new { AttemptId, Valid = true, RawScore = 2.5, NormalizedScore = 0.5, At = T0.AddSeconds(46) })),
            ("attempt_completed", J(new { AttemptId, Reason = "submitted", At = T0.AddSeconds(51) })),                              // 15
        ];
    }

    public static List<ReplayEvent> Events() => Attempt().Select((e, i) => ReplayEvent.Parse(i + 1, e.Type, e.Json)).ToList();

    [Fact]
    public void State_after_first_write_has_one_file_and_no_scores()
    {
        var s = ReplayFold.Fold(Events(), upTo: 4);
        Assert.Equal(4, s.Version);
        Assert.Equal("running", s.Status);
        var file = Assert.Single(s.Files.Values);
        Assert.Equal(("a.py", Sha('a'), 10L, 3L), (file.Path, file.Sha256, file.Size, file.Version));
        Assert.Empty(s.Scores);
        Assert.Equal(2, s.WorkingTime.TotalSeconds); // started at +1, event 4 at +3
        Assert.Equal(TimeSpan.FromMinutes(10), s.TimeBudget);
    }

    [Fact]
    public void While_paused_the_clock_stops_at_the_pause()
    {
        var s = ReplayFold.Fold(Events(), upTo: 8);
        Assert.Equal("paused", s.Status);
        Assert.Equal(10, s.WorkingTime.TotalSeconds); // +1 .. +11
        Assert.Equal((1L, 100L, 20L, 5L, 0.25), (s.ModelCalls, s.InputTokens, s.OutputTokens, s.ReasoningTokens, s.CostUsd));
    }

    [Fact]
    public void After_resume_paused_time_is_excluded_and_a_later_write_replaces_the_file()
    {
        var s = ReplayFold.Fold(Events(), upTo: 12);
        Assert.Equal("running", s.Status);
        Assert.Equal(13, s.WorkingTime.TotalSeconds); // +1 .. +44 less 30 s paused
        var file = Assert.Single(s.Files.Values);
        Assert.Equal((Sha('b'), 12L, 10L), (file.Sha256, file.Size, file.Version));
        var score = Assert.Single(s.Scores);
        Assert.Equal((12L, 0.5), (score.Version, score.NormalizedScore));
        Assert.Equal((150L, 0.75), (s.InputTokens, s.CostUsd));
    }

    [Fact]
    public void At_the_end_the_attempt_is_completed_with_its_final_score()
    {
        var s = ReplayFold.Fold(Events());
        Assert.Equal(("completed", 15L), (s.Status, s.Version));
        Assert.Equal((true, 0.5), (s.FinalValid, s.FinalNormalizedScore));
        Assert.Equal(20, s.WorkingTime.TotalSeconds); // +1 .. +51 less 30
        Assert.Equal("submitted", s.EndReason);
        Assert.Equal(3, s.Actions);
    }

    [Fact]
    public void Unknown_event_types_are_skipped_but_counted()
    {
        var events = Events().Take(2).Append(ReplayEvent.Parse(3, "something_new", """{"X":1}""")).ToList();
        var s = ReplayFold.Fold(events);
        Assert.Equal(("running", 3L), (s.Status, s.Version));
    }

    [Fact]
    public void Timeline_filters_by_kind()
    {
        var all = Timeline.Build(Events()).ToList();
        Assert.Equal(15, all.Count);
        Assert.Equal([7L, 11L], Timeline.Build(Events(), ["model"]).Select(t => t.Version));
        Assert.Equal([8L, 9L], Timeline.Build(Events(), ["pause"]).Select(t => t.Version));
        Assert.Equal([12L, 14L], Timeline.Build(Events(), ["score"]).Select(t => t.Version));
        var run = all.Single(t => t.Version == 6);
        Assert.Equal("action", run.Kind);
        Assert.Equal("hello\nworld", run.Details["Stdout"]);
        Assert.Contains("exit 1", run.Summary);
    }
}
