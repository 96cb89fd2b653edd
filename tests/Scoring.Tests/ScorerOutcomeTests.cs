using ReBench.Scoring.Scorers;

namespace ReBench.Scoring.Tests;

public sealed class ScorerOutcomeTests
{
    private static ScoringRules Rules(bool catchOom = false) => new(
        "ln(ms)", ScoreDirection.Lower, AggregationRule.Min, 5.0, 1.0, "test", true, 20, catchOom, BundleLoader.DefaultScorerCommand);

    private static ScorerRun Run(string stdout, int exit = 0, bool timedOut = false, bool oom = false, string stderr = "") =>
        new(exit, timedOut, oom, 1234, stdout, stderr);

    [Fact]
    public void A_finite_score_on_the_last_line_is_valid_and_normalized()
    {
        var outcome = ScorerOutcomes.Interpret(
            Run("solution noise\n{\"looks\": \"like json\"}\n{\"score\": 3.0, \"message\": {\"time_ms\": 20}, \"details\": {\"seed\": 7}}\n\n"), Rules());

        Assert.True(outcome.Valid);
        Assert.Equal(3.0, outcome.Raw);
        Assert.Equal(0.5, outcome.Normalized, 12);
        Assert.Equal("""{"time_ms":20}""", outcome.MessageJson);
        Assert.Equal("""{"seed":7}""", outcome.DetailsJson);
        Assert.Equal("", outcome.InvalidReason);
        Assert.Equal(1234, outcome.DurationMs);
    }

    [Fact]
    public void A_null_score_is_an_invalid_submission_that_keeps_the_scorers_message()
    {
        var outcome = ScorerOutcomes.Interpret(Run("""{"score": null, "message": {"error": "wrong values"}}"""), Rules());

        Assert.False(outcome.Valid);
        Assert.Equal("invalid_submission", outcome.InvalidReason);
        Assert.True(double.IsNaN(outcome.Raw) && double.IsNaN(outcome.Normalized));
        Assert.Equal("""{"error":"wrong values"}""", outcome.MessageJson);
        Assert.Equal("{}", outcome.DetailsJson);
    }

    [Theory]
    [InlineData("", 0, "printed nothing")]
    [InlineData("Traceback (most recent call last):\nValueError", 0, "not JSON")]
    [InlineData("[1, 2]", 0, "not a JSON object")]
    [InlineData("""{"message": {}}""", 0, "no \"score\"")]
    [InlineData("""{"score": "fast"}""", 0, "not a number or null")]
    [InlineData("""{"score": 1.0, "message": "hi"}""", 0, "\"message\" is not a JSON object")]
    [InlineData("""{"score": 1.0, "message": {}}""", 1, "exited with code 1")]
    [InlineData("""{"score": 1.0, "message": {}}""", 137, "exited with code 137")]
    public void Broken_scorer_output_is_a_scorer_crash_with_a_message_for_the_agent(string stdout, int exit, string problem)
    {
        var outcome = ScorerOutcomes.Interpret(Run(stdout, exit, stderr: "some stderr"), Rules());

        Assert.False(outcome.Valid);
        Assert.Equal("scorer_crash", outcome.InvalidReason);
        Assert.True(double.IsNaN(outcome.Raw));
        var message = JsonDocument.Parse(outcome.MessageJson).RootElement;
        Assert.Contains(problem, message.GetProperty("error").GetString());
        Assert.Equal("some stderr", message.GetProperty("stderr_tail").GetString());
        var details = JsonDocument.Parse(outcome.DetailsJson).RootElement;
        Assert.Equal(exit, details.GetProperty("exit_code").GetInt32());
        Assert.Equal(stdout, details.GetProperty("stdout_tail").GetString());
    }

    [Fact]
    public void A_timeout_wins_over_whatever_was_printed()
    {
        var outcome = ScorerOutcomes.Interpret(Run("""{"score": 1.0}""", exit: 137, timedOut: true), Rules(catchOom: true));

        Assert.Equal("timeout", outcome.InvalidReason);
        Assert.True(JsonDocument.Parse(outcome.MessageJson).RootElement.GetProperty("timeout").GetBoolean());
        Assert.Contains("20 s", outcome.MessageJson);
    }

    [Theory]
    [InlineData(137, false)]
    [InlineData(-9, true)]
    public void Out_of_memory_is_its_own_reason_when_the_task_catches_it(int exit, bool oomKilled)
    {
        var outcome = ScorerOutcomes.Interpret(Run("", exit, oom: oomKilled), Rules(catchOom: true));

        Assert.False(outcome.Valid);
        Assert.Equal("out_of_memory", outcome.InvalidReason);
        Assert.True(JsonDocument.Parse(outcome.MessageJson).RootElement.GetProperty("out_of_memory").GetBoolean());
    }

    [Fact]
    public void Out_of_memory_is_a_crash_when_the_task_does_not_catch_it()
    {
        var outcome = ScorerOutcomes.Interpret(Run("", 137, oom: true), Rules(catchOom: false));

        Assert.Equal("scorer_crash", outcome.InvalidReason);
        Assert.Contains("out of memory", outcome.MessageJson);
    }
}
