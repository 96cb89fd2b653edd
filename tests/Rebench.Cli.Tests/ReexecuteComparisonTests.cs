namespace ReBench.Cli.Tests;

/// <summary>The comparison `rebench reexecute` reports: events in, per-action verdicts and the reproduced flag out.</summary>
public sealed class ReexecuteComparisonTests
{
    private const string Original = "11111111-1111-1111-1111-111111111111";
    private const string Rerun = "22222222-2222-2222-2222-222222222222";

    private static (string, string) Ev(string type, object body) => (type, JsonSerializer.Serialize(body));

    /// <summary>A write, a run, an agent score, a submit, the orchestrator's final score and the final result.</summary>
    private static List<(string, string)> Attempt(string prefix, string stdout = "ok\n0.5 s\n", int runExit = 0, double? final = 0.9,
        bool finalValid = true, bool includeRun = true)
    {
        string Id(int n) => prefix == Original ? $"{Original}:{n}" : $"{prefix}:replay:{Original}:{n}";
        var events = new List<(string, string)>
        {
            Ev("attempt_scheduled", new { AttemptId = prefix }),
            Ev("action_requested", new { StepId = Id(1), Kind = "write_file", Path = "solution.py" }),
            Ev("action_completed", new { StepId = Id(1), ExitCode = 0, Stdout = "wrote 10 bytes", Stderr = "" }),
        };
        if (includeRun)
        {
            events.Add(Ev("action_requested", new { StepId = Id(2), Kind = "run", Command = "python3 solution.py" }));
            events.Add(Ev("action_completed", new { StepId = Id(2), ExitCode = runExit, Stdout = stdout, Stderr = "" }));
        }
        events.Add(Ev("score_requested", new { StepId = Id(3), Reason = "agent" }));
        events.Add(Ev("intermediate_score_recorded", new { StepId = Id(3), Valid = true, NormalizedScore = 0.8 }));
        events.Add(Ev("submission_received", new { StepId = Id(4), Submission = "" }));
        events.Add(Ev("score_requested", new { StepId = "final", Reason = "final" }));
        events.Add(Ev("intermediate_score_recorded", new { StepId = "final", Valid = finalValid, NormalizedScore = final }));
        events.Add(Ev("final_score_recorded", new { Valid = finalValid, NormalizedScore = final ?? 0 }));
        return events;
    }

    private static ReexecutionReport Compare(List<(string, string)> original, List<(string, string)> rerun, double tolerance = 0.05) =>
        ReexecuteComparison.Compare(RecordedAttempt.FromEvents(original), RecordedAttempt.FromEvents(rerun), tolerance);

    [Fact]
    public void An_identical_re_execution_reproduces_with_every_action_paired_by_StepId()
    {
        var report = Compare(Attempt(Original), Attempt(Rerun));
        Assert.True(report.Reproduced, string.Join("; ", report.Problems));
        Assert.Equal(["write_file", "run", "score", "submit"], report.Actions.Select(a => a.Kind));
        Assert.All(report.Actions, a => Assert.True(a.Rerun && a.ExitMatches && a.OutputMatches));
        Assert.Equal($"{Original}:2", report.Actions[1].StepId);
        Assert.Equal(0, report.Actions[1].RerunExit);
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void The_orchestrators_final_score_step_is_not_an_agent_action()
    {
        var steps = RecordedAttempt.FromEvents(Attempt(Original)).Steps;
        Assert.DoesNotContain(steps, s => s.StepId == "final");
        Assert.Equal(4, steps.Count);
        Assert.Equal(0.8, steps[2].NormalizedScore);
    }

    [Fact]
    public void A_different_exit_code_is_not_reproduced_and_names_the_action()
    {
        var report = Compare(Attempt(Original), Attempt(Rerun, runExit: 1));
        Assert.False(report.Reproduced);
        Assert.False(report.ExitCodesMatch);
        Assert.True(report.ScoreReproduces);
        var run = report.Actions[1];
        Assert.False(run.ExitMatches);
        Assert.Equal((0, 1), (run.OriginalExit, run.RerunExit));
        Assert.Contains($"action 2 (run {Original}:2): exit code 0 originally, 1 re-run", report.Problems);
    }

    [Fact]
    public void Different_output_is_reported_with_a_diff_summary_but_does_not_decide()
    {
        var report = Compare(Attempt(Original), Attempt(Rerun, stdout: "ok\n0.7 s\n"));
        Assert.True(report.Reproduced);
        var run = report.Actions[1];
        Assert.True(run.ExitMatches);
        Assert.False(run.OutputMatches);
        Assert.Equal("stdout: 1 of 3 lines differ (first: line 2)", run.OutputDiff);
    }

    [Fact]
    public void Output_of_different_length_counts_the_missing_lines()
    {
        var (matches, summary) = ReexecuteComparison.OutputDiff(
            new RecordedStep("a", "run", "x") { Stdout = "a\nb", Stderr = "" },
            new RecordedStep("b", "run", "x") { Stdout = "a\nb\nc\nd", Stderr = "warn" });
        Assert.False(matches);
        Assert.Equal("stdout: 2 of 2 vs 4 lines differ (first: line 3); stderr: 1 of 1 lines differ (first: line 1)", summary);
    }

    [Theory]
    [InlineData(0.9, 0.95, 0.05, true)]   // exactly at the tolerance
    [InlineData(0.9, 0.851, 0.05, true)]
    [InlineData(0.9, 0.96, 0.05, false)]
    [InlineData(0.9, 0.9, 0.0, true)]
    [InlineData(0.9, 0.91, 0.0, false)]
    [InlineData(0.9, 1.0, 0.2, true)]
    public void The_final_score_reproduces_within_the_tolerance(double original, double rerun, double tolerance, bool expected)
    {
        var report = Compare(Attempt(Original, final: original), Attempt(Rerun, final: rerun), tolerance);
        Assert.Equal(expected, report.ScoreReproduces);
        Assert.Equal(expected, report.Reproduced);
        if (!expected) Assert.Contains(report.Problems, p => p.Contains("differs by more than the tolerance"));
    }

    [Fact]
    public void Both_final_scores_invalid_reproduces_but_one_valid_one_invalid_does_not()
    {
        Assert.True(Compare(Attempt(Original, final: null, finalValid: false), Attempt(Rerun, final: null, finalValid: false)).Reproduced);
        var report = Compare(Attempt(Original), Attempt(Rerun, final: null, finalValid: false));
        Assert.False(report.Reproduced);
        Assert.Contains("final score valid True originally, False re-run", report.Problems);
    }

    [Fact]
    public void An_action_that_was_not_re_run_is_not_reproduced()
    {
        var report = Compare(Attempt(Original), Attempt(Rerun, includeRun: false));
        Assert.False(report.Reproduced);
        var run = report.Actions[1];
        Assert.False(run.Rerun);
        Assert.Equal("not re-run", run.OutputDiff);
        Assert.Contains($"action 2 (run {Original}:2) was not re-run", report.Problems);
    }

    [Fact]
    public void A_re_execution_without_a_final_score_is_not_reproduced()
    {
        var rerun = Attempt(Rerun).Where(e => e.Item1 != "final_score_recorded").ToList();
        var report = Compare(Attempt(Original), rerun);
        Assert.False(report.Reproduced);
        Assert.Contains("the re-execution has no final score", report.Problems);
    }

    [Fact]
    public void Stored_field_names_are_matched_whatever_their_casing()
    {
        var events = new List<(string, string)>
        {
            ("action_requested", """{"stepId":"s1","kind":"run","command":"true"}"""),
            ("action_completed", """{"stepId":"s1","exitCode":3,"stdout":"x","stderr":"","error":null}"""),
            ("final_score_recorded", """{"valid":true,"normalizedScore":0.25}"""),
        };
        var a = RecordedAttempt.FromEvents(events);
        var step = Assert.Single(a.Steps);
        Assert.Equal(("run", "true", 3, "x"), (step.Kind, step.What, step.ExitCode, step.Stdout));
        Assert.True(a.HasFinal && a.FinalValid);
        Assert.Equal(0.25, a.FinalNormalized);
    }
}
