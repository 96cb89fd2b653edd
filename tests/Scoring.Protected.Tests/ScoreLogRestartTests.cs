using Xunit.Abstractions;

namespace ReBench.Scoring.Protected.Tests;

/// <summary>
/// The score log's written-rows record across a restart of the scoring service: with PostgreSQL (a real server,
/// REBENCH_TEST_PG) the record is stored, so a row forged while the service was down is still flagged; without it the
/// restarted service can only adopt the file as found (and says so). Real sandbox, real scoring service, each on a
/// loopback port; the scoring service is stopped and started again on the same settings.
/// </summary>
public sealed class ScoreLogRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TaskId = "nan_reasons"; // a quick scorer: scores 1 while ~/mode.txt says "ok"
    private const string Forged = "2030-01-01T00:00:00Z,-9.5,\"{\"\"mode\"\": \"\"ok\"\"}\",\"{}\"";

    private readonly string _root = Directory.CreateTempSubdirectory("rebench-restart-").FullName;
    private readonly List<WebApplication> _sandboxes = [];
    private string _sandboxAddress = "";
    private Sandbox.V1.Sandbox.SandboxClient _sandbox = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_row_forged_while_the_service_was_down_is_flagged_after_the_restart_with_PostgreSQL()
    {
        await StartSandboxAsync("none"); // the agent can write the protected area: only the record can tell
        var db = Settings(TestEnv.UniqueSchema("score_log"));

        var (env, first) = await FirstRunAsync(db);
        Assert.True(first.Valid, first.MessageJson + first.DetailsJson);

        var write = await AgentRunsAsync(env, $"printf '%s\\n' '{Forged.Replace("'", "'\\''")}' >> ../protected/score.log");
        Assert.Equal(0, write);

        await using var restarted = await StartScoringAsync(db);
        var next = await ScoreAsync(restarted.Client, env);

        Assert.True(next.FlaggedForReview, next.DetailsJson);
        var finding = JsonDocument.Parse(next.TamperEvidenceJson).RootElement.EnumerateArray()
            .Single(f => f.GetProperty("kind").GetString() == "score_log_line_not_written_by_scorer");
        Assert.Equal("score.log:3", finding.GetProperty("path").GetString());
        Assert.Contains("-9.5", finding.GetProperty("actual").GetString());
        Assert.False(JsonDocument.Parse(next.DetailsJson).RootElement.TryGetProperty("score_log_adopted", out _));
        Assert.True(next.Valid, "the forged row flags the attempt; the run itself is the scorer's own");
    }

    [Fact]
    public async Task Without_PostgreSQL_the_restarted_service_adopts_the_log_and_says_so()
    {
        await StartSandboxAsync("none");
        var memory = Settings(schema: null);

        var (env, _) = await FirstRunAsync(memory);
        Assert.Equal(0, await AgentRunsAsync(env, $"printf '%s\\n' '{Forged.Replace("'", "'\\''")}' >> ../protected/score.log"));

        await using var restarted = await StartScoringAsync(memory);
        var next = await ScoreAsync(restarted.Client, env);

        Assert.False(next.FlaggedForReview, next.TamperEvidenceJson); // the one window a stored record closes
        Assert.True(JsonDocument.Parse(next.DetailsJson).RootElement.GetProperty("score_log_adopted").GetBoolean());
    }

    [Fact]
    public async Task Under_isolation_the_scorer_keeps_the_log_across_a_restart_and_an_honest_attempt_stays_clean()
    {
        await StartSandboxAsync("auto");
        var db = Settings(TestEnv.UniqueSchema("score_log"));

        var (env, first) = await FirstRunAsync(db);
        var forge = await AgentRunsAsync(env, $"printf '%s\\n' '{Forged.Replace("'", "'\\''")}' >> ../protected/score.log");
        output.WriteLine($"the agent's append to the score log exited {forge}");

        await using var restarted = await StartScoringAsync(db);
        var next = await ScoreAsync(restarted.Client, env);

        var log = (await _sandbox.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "score.log", ProtectedArea = true }))
            .Content.ToStringUtf8().TrimEnd('\n').Split('\n');
        Assert.Equal("timestamp,score,message,details", log[0]);
        Assert.False(JsonDocument.Parse(next.DetailsJson).RootElement.TryGetProperty("score_log_adopted", out _));
        if (forge == 0)
        {
            // The sandbox did not isolate (no user namespaces here): the forged row must be caught instead.
            Assert.True(next.FlaggedForReview, next.DetailsJson);
            Assert.Equal(4, log.Length);
        }
        else
        {
            // Isolated: the agent cannot write the log, the scorer wrote both rows itself, nothing is flagged.
            Assert.False(first.FlaggedForReview, first.TamperEvidenceJson);
            Assert.False(next.FlaggedForReview, next.TamperEvidenceJson);
            Assert.Equal(3, log.Length);
            Assert.Equal("1", log[2].Split(',')[1]);
        }
    }

    /// <summary>A prepared environment scored once by a scoring service that is then stopped.</summary>
    private async Task<(string Env, IntermediateScore First)> FirstRunAsync(Dictionary<string, string?> settings)
    {
        await using var scoring = await StartScoringAsync(settings);
        var task = await scoring.Client.GetTaskAsync(new GetTaskRequest { TaskId = TaskId });
        var env = (await _sandbox.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = TaskId, AgentFilesDir = task.AgentFilesDir, ProtectedFilesDir = task.ProtectedFilesDir,
        })).EnvironmentId;
        await scoring.Client.PrepareEnvironmentAsync(new PrepareEnvironmentRequest { AttemptId = "a-" + env, TaskId = TaskId, EnvironmentId = env });
        Assert.Equal(0, await AgentRunsAsync(env, "echo ok > mode.txt"));
        var first = await ScoreAsync(scoring.Client, env);
        Assert.False(first.FlaggedForReview, first.TamperEvidenceJson);
        return (env, first);
    }

    private Dictionary<string, string?> Settings(string? schema)
    {
        var tasks = Path.Combine(_root, "tasks");
        if (!Directory.Exists(tasks))
            ProtectedScoringHost.CopyFolder(Path.Combine(AppContext.BaseDirectory, "Bundles", TaskId), Path.Combine(tasks, TaskId));
        var s = new Dictionary<string, string?> { ["Scoring:TasksRoot"] = tasks, ["Services:Sandbox"] = _sandboxAddress };
        if (schema is not null)
        {
            s["ConnectionStrings:Postgres"] = TestEnv.PostgresConnectionString;
            s["Scoring:Schema"] = schema;
        }
        return s;
    }

    private static Task<IntermediateScore> ScoreAsync(V1.Scoring.ScoringClient client, string env) =>
        client.ScoreSubmissionAsync(new ScoreSubmissionRequest { AttemptId = "a-" + env, TaskId = TaskId, EnvironmentId = env }).ResponseAsync;

    private async Task<int> AgentRunsAsync(string env, string command)
    {
        using var call = _sandbox.Exec(new ExecRequest { EnvironmentId = env, Command = command, TimeoutSeconds = 120 });
        var exit = -1;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == ExecEvent.EventOneofCase.Exit) exit = e.Exit.ExitCode;
        return exit;
    }

    private async Task StartSandboxAsync(string isolation)
    {
        var port = TestEnv.FreePort();
        _sandboxes.Add(await LoopbackService.StartAsync("sandbox", port,
            new Dictionary<string, string?> { ["Sandbox:Root"] = Path.Combine(_root, "sandbox"), ["Sandbox:Isolation"] = isolation }, b => b.AddSandbox(), a => a.MapSandbox()));
        _sandboxAddress = $"http://127.0.0.1:{port}";
        _sandbox = new Sandbox.V1.Sandbox.SandboxClient(TestPlatformKey.Channel(_sandboxAddress));
    }

    private static async Task<RunningScoring> StartScoringAsync(Dictionary<string, string?> settings)
    {
        var port = TestEnv.FreePort();
        var app = await LoopbackService.StartAsync("scoring", port, settings, b => b.AddScoring(), a => a.MapScoring());
        return new RunningScoring(app, new V1.Scoring.ScoringClient(TestPlatformKey.Channel($"http://127.0.0.1:{port}")));
    }

    private sealed record RunningScoring(WebApplication App, V1.Scoring.ScoringClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _sandboxes)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
