namespace ReBench.Scoring.Protected.Tests;

/// <summary>
/// An end-only Task Standard family (TaskFamilies/ts_final: score(t, submission), no intermediate_score) through the
/// scoring gRPC API against the real sandbox: intermediate scores answer that scoring happens at the end and leave no
/// row in the score log; the final score is score(submission), run once.
/// </summary>
public sealed class EndOnlyTaskStandardTests(ProtectedScoringHost host) : IClassFixture<ProtectedScoringHost>
{
    private const string TaskId = "ts_final";

    [Fact]
    public async Task An_intermediate_score_says_scoring_happens_at_the_end_and_writes_no_NaN_row()
    {
        var (env, task) = await host.NewAttemptAsync(TaskId, "main");
        Assert.Equal("The colour is blue.\n", (await host.AgentRunsAsync(env, "cat hint.txt")).Stdout); // start() ran

        var first = await host.ScoreAsync(env, task);
        var second = await host.ScoreAsync(env, task);

        foreach (var s in new[] { first, second })
        {
            Assert.False(s.Valid);
            Assert.Equal("scored_at_end", s.InvalidReason);
            Assert.Contains("scored at the end", JsonDocument.Parse(s.MessageJson).RootElement.GetProperty("info").GetString());
            Assert.True(JsonDocument.Parse(s.DetailsJson).RootElement.GetProperty("scored_at_end").GetBoolean());
            Assert.False(s.FlaggedForReview, s.TamperEvidenceJson);
        }
        Assert.Equal("timestamp,score,message,details\n", await host.ReadProtectedAsync(env, "score.log"));
        Assert.NotEqual(0, (await host.AgentRunsAsync(env, "test -e score_calls.txt")).Exit); // score() did not run
    }

    [Fact]
    public async Task The_final_score_is_score_of_the_submission_run_once()
    {
        var (env, task) = await host.NewAttemptAsync(TaskId, "main");
        await host.ScoreAsync(env, task); // the orchestrator's last intermediate score before aggregation

        var final = await host.Scoring.AggregateAsync(new AggregateRequest
        {
            TaskId = TaskId, Variant = "main", EnvironmentId = env, Submission = " Blue\n", RawScores = { double.NaN },
        });

        Assert.True(final.Valid);
        Assert.Equal(1.0, final.RawScore);
        Assert.Equal(1.0, final.NormalizedScore, 12);
        Assert.Equal("' Blue\\n'\n", (await host.AgentRunsAsync(env, "cat score_calls.txt")).Stdout);

        var (env2, _) = await host.NewAttemptAsync(TaskId, "main");
        var wrong = await host.Scoring.AggregateAsync(new AggregateRequest { TaskId = TaskId, Variant = "main", EnvironmentId = env2, Submission = "red" });
        Assert.True(wrong.Valid);
        Assert.Equal(0.0, wrong.RawScore);
    }

    [Fact]
    public async Task A_score_of_None_needs_manual_scoring_and_gives_no_valid_final_score()
    {
        var (env, _) = await host.NewAttemptAsync(TaskId, "manual");

        var final = await host.Scoring.AggregateAsync(new AggregateRequest { TaskId = TaskId, Variant = "manual", EnvironmentId = env, Submission = "blue" });

        Assert.False(final.Valid);
        Assert.Equal(0, final.NormalizedScore);
        Assert.Equal("'blue'\n", (await host.AgentRunsAsync(env, "cat score_calls.txt")).Stdout); // ran once
    }

    [Fact]
    public async Task An_oversized_submission_gets_no_valid_final_score_and_score_is_not_run()
    {
        var (env, _) = await host.NewAttemptAsync(TaskId, "main");
        var final = await host.Scoring.AggregateAsync(new AggregateRequest
        {
            TaskId = TaskId, Variant = "main", EnvironmentId = env, Submission = new string('x', 200_000),
        });
        Assert.False(final.Valid);
        Assert.Equal(0, final.NormalizedScore);
        Assert.NotEqual(0, (await host.AgentRunsAsync(env, "test -e score_calls.txt")).Exit);

        // A family with intermediate scores never reads the submission: its size changes nothing there.
        var (counter, _) = await host.NewAttemptAsync("ts_counter", "main");
        var max = await host.Scoring.AggregateAsync(new AggregateRequest
        {
            TaskId = "ts_counter", Variant = "main", EnvironmentId = counter, Submission = new string('x', 200_000), RawScores = { 3, 9 },
        });
        Assert.True(max.Valid);
        Assert.Equal(9, max.RawScore);
    }
}
