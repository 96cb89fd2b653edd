namespace ReBench.Scoring.Protected.Tests;

/// <summary>
/// The Task Standard test family (TaskFamilies/ts_counter, unmodified Task Standard code) scored end to end through
/// the scoring gRPC API against the real sandbox: start() as the environment's setup, intermediate_score through the
/// shim, aggregate_scores for the final score.
/// </summary>
public sealed class TaskStandardBridgeTests(ProtectedScoringHost host) : IClassFixture<ProtectedScoringHost>
{
    private const string TaskId = "ts_counter";

    [Fact]
    public async Task The_catalog_serves_the_family_with_its_manifest_and_last_as_the_default_aggregation()
    {
        var task = await host.Scoring.GetTaskAsync(new GetTaskRequest { TaskId = TaskId, Variant = "main" });
        Assert.Equal(Aggregation.Last, task.Aggregation);
        Assert.Equal(["main", "lastly", "unknown"], task.Variants);
    }

    [Fact]
    public async Task Prepare_runs_start_once_and_creates_the_score_log()
    {
        var (env, task) = await host.NewAttemptAsync(TaskId, "main");

        var hint = await host.AgentRunsAsync(env, "cat task.txt");
        Assert.Equal("The number is between 37 and 47.\n", hint.Stdout);
        if (await host.ReadProtectedAsync(env, "score.log") is { } log) // none where the protected area is read-only
            Assert.Equal("timestamp,score,message,details\n", log);
        var again = await host.Scoring.PrepareEnvironmentAsync(new PrepareEnvironmentRequest
        {
            AttemptId = "a", TaskId = TaskId, Variant = "main", EnvironmentId = env,
        });
        Assert.True(again.AlreadyPrepared);
        Assert.False(again.RanTaskStart);
        _ = task;
    }

    [Fact]
    public async Task Intermediate_scores_map_NaN_to_an_invalid_submission_and_ignore_a_forged_result_on_stdout()
    {
        var (env, task) = await host.NewAttemptAsync(TaskId, "main");

        var none = await host.ScoreAsync(env, task);
        Assert.False(none.Valid);
        Assert.Equal("invalid_submission", none.InvalidReason);
        Assert.True(double.IsNaN(none.RawScore));
        Assert.Contains("no valid answer", JsonDocument.Parse(none.MessageJson).RootElement.GetProperty("error").GetString());

        await host.AgentRunsAsync(env, "echo 40 > answer.txt");
        var close = await host.ScoreAsync(env, task);
        Assert.True(close.Valid, close.MessageJson + close.DetailsJson);
        Assert.Equal(8.0, close.RawScore); // not the 1000 the family printed between separators on its stdout
        Assert.Equal(0.8, close.NormalizedScore, 12);
        Assert.Equal(2, JsonDocument.Parse(close.MessageJson).RootElement.GetProperty("distance").GetInt32());
        var details = JsonDocument.Parse(close.DetailsJson).RootElement;
        Assert.Equal(42, details.GetProperty("target").GetInt32()); // details stay hidden from the agent
        Assert.Contains("SEP_MUfKWkpuVDn9E", details.GetProperty("family_output_tail").GetString());
        Assert.DoesNotContain("target", close.MessageJson);
        Assert.False(close.FlaggedForReview, close.TamperEvidenceJson);
    }

    [Fact]
    public async Task The_final_score_comes_from_aggregate_scores_and_None_means_the_last_score()
    {
        var (env, task) = await host.NewAttemptAsync(TaskId, "main");
        double[] log = [double.NaN, 7, 10, 3];

        var max = await host.Scoring.AggregateAsync(new AggregateRequest { TaskId = TaskId, Variant = "main", EnvironmentId = env, RawScores = { log } });
        Assert.True(max.Valid);
        Assert.Equal(10, max.RawScore); // the family's own rule (max), not the manifest's default (last)

        var (env2, _) = await host.NewAttemptAsync(TaskId, "lastly");
        var last = await host.Scoring.AggregateAsync(new AggregateRequest { TaskId = TaskId, Variant = "lastly", EnvironmentId = env2, RawScores = { log } });
        Assert.True(last.Valid);
        Assert.Equal(3, last.RawScore);
        Assert.Equal(0.3, last.NormalizedScore, 12);

        var nan = await host.Scoring.AggregateAsync(new AggregateRequest { TaskId = TaskId, Variant = "main", EnvironmentId = env, RawScores = { double.NaN } });
        Assert.False(nan.Valid);
        Assert.Equal(0, nan.NormalizedScore);
        _ = task;
    }

    [Fact]
    public async Task A_variant_naming_a_task_the_family_does_not_have_fails_at_prepare_with_the_reason()
    {
        var task = await host.Scoring.GetTaskAsync(new GetTaskRequest { TaskId = TaskId, Variant = "unknown" });
        var env = await host.Sandbox.CreateEnvironmentAsync(new Sandbox.V1.CreateEnvironmentRequest
        {
            TaskId = TaskId, AgentFilesDir = task.AgentFilesDir, ProtectedFilesDir = task.ProtectedFilesDir,
        });

        var e = await Assert.ThrowsAsync<RpcException>(() => host.Scoring.PrepareEnvironmentAsync(new PrepareEnvironmentRequest
        {
            AttemptId = "a", TaskId = TaskId, Variant = "unknown", EnvironmentId = env.EnvironmentId,
        }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("no_such_task", e.Status.Detail);
        Assert.Contains("get_tasks() has no such task", e.Status.Detail);
    }
}
