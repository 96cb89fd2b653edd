namespace ReBench.Scoring.Tests;

public sealed class ScoringServiceTests(RepoScoringHost host) : IClassFixture<RepoScoringHost>
{
    private const string TaskId = "ai_rd_triton_cumsum";
    private V1.Scoring.ScoringClient Client => host.Client;

    [Fact]
    public async Task GetTask_without_variant_gives_the_default_with_absolute_bundle_folders()
    {
        var task = await Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId });

        Assert.Equal("cpu", task.Variant);
        Assert.Equal("cpu", task.Variants[0]);  // the default is listed first; the official `main` follows
        Assert.Equal(Aggregation.Min, task.Aggregation);
        Assert.True(task.LowerIsBetter);
        Assert.True(task.ReferenceScore < task.StartScore);
        Assert.True(Path.IsPathRooted(task.AgentFilesDir) && File.Exists(Path.Combine(task.AgentFilesDir, "solution.py")));
        Assert.True(Path.IsPathRooted(task.ProtectedFilesDir) && File.Exists(Path.Combine(task.ProtectedFilesDir, "score.py")));
        Assert.Contains("Use the `score` action to score your submission.", task.Instructions);
        Assert.Matches("^[0-9a-f]{64}$", task.BundleDigest);
        Assert.Matches("^[0-9a-f]{64}$", task.ScorerDigest);
        Assert.True(task.ScorerTimeoutSeconds > 0);
        Assert.True(task.Cpus > 0 && task.MemoryMb > 0);
    }

    [Fact]
    public async Task ListTasks_lists_the_shipped_task_and_no_invalid_bundle()
    {
        var list = await Client.ListTasksAsync(new ListTasksRequest());

        Assert.Contains(list.Tasks, t => t.TaskId == TaskId && t.Variant == "cpu");
        Assert.Empty(list.InvalidBundles);
    }

    [Theory]
    [InlineData("nope", "", "unknown task 'nope'", TaskId)]
    [InlineData(TaskId, "gpu", "no variant 'gpu'", "its variants: cpu")]
    public async Task GetTask_of_an_unknown_task_or_variant_is_NotFound_naming_what_exists(
        string taskId, string variant, string problem, string known)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Client.GetTaskAsync(new GetTaskRequest { TaskId = taskId, Variant = variant }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains(problem, e.Status.Detail);
        Assert.Contains(known, e.Status.Detail);
    }

    [Fact]
    public async Task Empty_ids_are_InvalidArgument_naming_the_field()
    {
        var noTask = await Assert.ThrowsAsync<RpcException>(() => Client.GetTaskAsync(new GetTaskRequest()).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "task_id is required"), (noTask.StatusCode, noTask.Status.Detail));

        var request = new ScoreSubmissionRequest { AttemptId = "a1", TaskId = TaskId, EnvironmentId = "" };
        var noEnv = await Assert.ThrowsAsync<RpcException>(() => Client.ScoreSubmissionAsync(request).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "environment_id is required"), (noEnv.StatusCode, noEnv.Status.Detail));

        request = new ScoreSubmissionRequest { TaskId = TaskId, EnvironmentId = "e1" };
        var noAttempt = await Assert.ThrowsAsync<RpcException>(() => Client.ScoreSubmissionAsync(request).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "attempt_id is required"), (noAttempt.StatusCode, noAttempt.Status.Detail));

        var noAggregateTask = await Assert.ThrowsAsync<RpcException>(() => Client.AggregateAsync(new AggregateRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noAggregateTask.StatusCode);
    }

    [Fact]
    public async Task ScoreSubmission_of_the_reference_solution_is_valid_and_normalized()
    {
        var task = await Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId });
        var (home, _) = host.Environments.Create("env-reference", task.AgentFilesDir, task.ProtectedFilesDir);
        File.Copy(Path.Combine(CumsumTask.Dir, "reference", "solution.py"), Path.Combine(home, "solution.py"), overwrite: true);

        var score = await Client.ScoreSubmissionAsync(new ScoreSubmissionRequest
        {
            AttemptId = "attempt-1", TaskId = TaskId, EnvironmentId = "env-reference",
        });

        Assert.True(score.Valid, score.MessageJson + score.DetailsJson);
        Assert.Equal("", score.InvalidReason);
        Assert.True(double.IsFinite(score.RawScore));
        var expected = Math.Max(0, (score.RawScore - task.StartScore) / (task.ReferenceScore - task.StartScore));
        Assert.Equal(expected, score.NormalizedScore, 12);
        Assert.True(score.NormalizedScore > 0.5, $"the reference solution normalized to {score.NormalizedScore}");
        Assert.True(score.ScoreVisible);
        Assert.True(score.DurationMs > 0);
        var message = JsonDocument.Parse(score.MessageJson).RootElement;
        Assert.Equal(Math.Log(message.GetProperty("time_ms").GetDouble()), score.RawScore, 3);
        Assert.True(JsonDocument.Parse(score.DetailsJson).RootElement.TryGetProperty("seed", out _));
    }

    [Fact]
    public async Task ScoreSubmission_of_a_wrong_solution_is_an_invalid_submission_with_the_scorers_message()
    {
        var task = await Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId, Variant = "cpu" });
        var (home, _) = host.Environments.Create("env-wrong", task.AgentFilesDir, task.ProtectedFilesDir);
        await File.WriteAllTextAsync(Path.Combine(home, "solution.py"), CumsumTask.WrongSolution);

        var score = await Client.ScoreSubmissionAsync(new ScoreSubmissionRequest
        {
            AttemptId = "attempt-2", TaskId = TaskId, Variant = "cpu", EnvironmentId = "env-wrong",
        });

        Assert.False(score.Valid);
        Assert.Equal("invalid_submission", score.InvalidReason);
        Assert.True(double.IsNaN(score.RawScore) && double.IsNaN(score.NormalizedScore));
        Assert.Contains("wrong values", JsonDocument.Parse(score.MessageJson).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ScoreSubmission_when_the_scorer_crashes_is_invalid_with_scorer_crash_and_a_message()
    {
        var task = await Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId });
        var (_, protectedDir) = host.Environments.Create("env-crash", task.AgentFilesDir, task.ProtectedFilesDir);
        await File.WriteAllTextAsync(Path.Combine(protectedDir, "score.py"), "import sys\nprint('scorer bug', file=sys.stderr)\nsys.exit(3)\n");

        var score = await Client.ScoreSubmissionAsync(new ScoreSubmissionRequest
        {
            AttemptId = "attempt-3", TaskId = TaskId, EnvironmentId = "env-crash",
        });

        Assert.False(score.Valid);
        Assert.Equal("scorer_crash", score.InvalidReason);
        Assert.True(double.IsNaN(score.RawScore));
        var message = JsonDocument.Parse(score.MessageJson).RootElement;
        Assert.Contains("exited with code 3", message.GetProperty("error").GetString());
        Assert.Contains("scorer bug", message.GetProperty("stderr_tail").GetString());
        Assert.Equal(3, JsonDocument.Parse(score.DetailsJson).RootElement.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task ScoreSubmission_in_an_unknown_environment_is_FailedPrecondition()
    {
        var request = new ScoreSubmissionRequest { AttemptId = "attempt-4", TaskId = TaskId, EnvironmentId = "env-missing" };

        var e = await Assert.ThrowsAsync<RpcException>(() => Client.ScoreSubmissionAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("attempt attempt-4 has no sandbox environment 'env-missing'", e.Status.Detail);
    }

    [Fact]
    public async Task Aggregate_takes_the_task_rule_over_valid_scores_and_normalizes()
    {
        var task = await Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId });
        var request = new AggregateRequest { TaskId = TaskId, RawScores = { double.NaN, 3.5, 2.5, double.PositiveInfinity, 3.0 } };

        var final = await Client.AggregateAsync(request);

        Assert.True(final.Valid);
        Assert.Equal(2.5, final.RawScore);
        Assert.Equal((2.5 - task.StartScore) / (task.ReferenceScore - task.StartScore), final.NormalizedScore, 12);

        var none = await Client.AggregateAsync(new AggregateRequest { TaskId = TaskId, RawScores = { double.NaN } });
        Assert.False(none.Valid);
        Assert.True(double.IsNaN(none.RawScore));
        Assert.Equal(0, none.NormalizedScore);
    }

    [Fact]
    public async Task GetReferenceSolution_returns_the_files_of_reference()
    {
        var solution = await Client.GetReferenceSolutionAsync(new GetReferenceSolutionRequest { TaskId = TaskId });

        var file = Assert.Single(solution.Files);
        Assert.Equal("solution.py", file.Path);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(CumsumTask.Dir, "reference", "solution.py")), file.Content.ToByteArray());
    }
}
