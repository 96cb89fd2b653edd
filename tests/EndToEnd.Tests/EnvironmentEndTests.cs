using System.Reflection;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Containment across the end of an attempt, attacked through the real platform: what an agent leaves running dies
/// with its attempt, a crashed sandbox service does not let a cut-off step run twice at once, and the orchestrator's
/// reconciler destroys environments no live attempt owns, and records it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class EnvironmentEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private async Task<Attempt> RunScriptedAsync(string name, TimeSpan budget, params object[] steps) =>
        await WaitAsync((await Platform.Orchestrator().Campaigns.CreateCampaignAsync(Scripted.Campaign(name, budget, steps))).CampaignId);

    private async Task<Attempt> WaitAsync(string campaignId) =>
        (await CampaignFinishedAsync(campaignId, output, ["orchestrator", "agents", "sandbox"])).Single();

    [Fact]
    public void Every_end_to_end_test_on_the_platform_checks_its_end_state()
    {
        var unchecked_ = typeof(EnvironmentEndTests).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<CollectionAttribute>() is not null && !t.IsSubclassOf(typeof(PlatformTest)))
            .Select(t => t.Name).ToList();
        Assert.True(unchecked_.Count == 0, $"end-to-end test classes that do not derive from PlatformTest: {string.Join(", ", unchecked_)}");
    }

    [Fact]
    public async Task What_the_agent_leaves_running_dies_with_its_attempt()
    {
        // A detached sleeper and a burst of background jobs (a bounded stand-in for a fork bomb), then submit.
        var attempt = await RunScriptedAsync("leftovers", TimeSpan.FromMinutes(3),
            new { run = "nohup sleep 100000 >/dev/null 2>&1 & setsid sleep 100001 >/dev/null 2>&1 < /dev/null & echo started" },
            new { run = "for i in $(seq 40); do (sleep 100002 &) ; done; ps -e | grep -c sleep" },
            new { submit = "" });
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(Platform.Orchestrator(), attempt.AttemptId);
        var counted = events.Where(e => e.EventType == "action_completed").ElementAt(1).Field("Stdout").GetString()!.Trim();
        Assert.True(int.Parse(counted) >= 40, $"the background jobs ran (control): {counted} sleepers");
        var env = Guid.Parse(attempt.AttemptId).ToString("N");
        await EventuallyAsync(() => HostLeaks.Find(Platform.SandboxRoot, new HashSet<string> { env }), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("Destroying environment", Platform.LogTail("orchestrator", 400));
    }

    [Fact]
    public async Task Bad_write_paths_are_recorded_as_failed_steps_and_the_agent_goes_on()
    {
        var longPath = new string('x', 5000);
        var longComponent = "dir/" + new string('y', 300) + ".txt";
        string[] paths = ["../outside.txt", "/etc/passwd", "a\0b.txt", longPath, longComponent, "ok/../../../etc/x"];
        var steps = paths.Select(p => (object)new { write = p, content = "x" }).Append(new { run = "echo goes on" }).Append(new { submit = "" }).ToArray();
        var attempt = await RunScriptedAsync("bad-paths", TimeSpan.FromMinutes(3), steps);
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(Platform.Orchestrator(), attempt.AttemptId);
        var completed = events.Where(e => e.EventType == "action_completed").ToList();
        Assert.Equal(paths.Length + 1, completed.Count);
        for (var i = 0; i < paths.Length; i++)
        {
            var error = completed[i].Field("Error").GetString() ?? "";
            output.WriteLine($"{paths[i][..Math.Min(20, paths[i].Length)]}: {error}");
            Assert.Equal(-1, completed[i].Field("ExitCode").GetInt32());
            Assert.False(string.IsNullOrEmpty(error), $"write {i} has no error");
            Assert.True(error.Length < 300, $"write {i}'s message echoes the input: {error.Length} characters");
        }
        Assert.Equal("goes on\n", completed[^1].Field("Stdout").GetString()); // the driver went on
        Assert.False(File.Exists("/etc/x"));
    }

    [Fact]
    public async Task A_step_killed_for_memory_is_recorded_as_out_of_memory_and_the_cli_says_so()
    {
        // The task's environment has 2048 MB; 3 GiB of touched memory is past it.
        var attempt = await RunScriptedAsync("oom", TimeSpan.FromMinutes(3),
            new { run = "python3 -c \"x = b'x' * (3 * 1024 ** 3); print('survived')\"", timeout = 120 },
            new { run = "echo alive" },
            new { submit = "" });
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var completed = (await Waits.EventsAsync(Platform.Orchestrator(), attempt.AttemptId)).Where(e => e.EventType == "action_completed").ToList();
        Assert.True(completed[0].Field("OomKilled").GetBoolean(), completed[0].DataJson);
        Assert.DoesNotContain("survived", completed[0].Field("Stdout").GetString());
        Assert.False(completed[1].Field("OomKilled").GetBoolean(), "control: the next step is not marked");
        var (code, text) = await Cli.RebenchAsync(output, Platform, PlatformProcesses.ApiKey, TimeSpan.FromMinutes(1), "attempts", "events", attempt.AttemptId);
        Assert.Equal(0, code);
        Assert.Single(text.Split('\n'), l => l.Contains("(killed: out of memory)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_crashed_sandbox_kills_the_cut_off_step_before_it_runs_again()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("sandbox-crash", TimeSpan.FromMinutes(3),
            new { run = "echo start $(date +%s.%N) >> log.txt; sleep 12; echo end $(date +%s.%N) >> log.txt", timeout = 60 },
            new { run = "cat log.txt" },
            new { submit = "" }));
        var attemptId = campaign.AttemptIds.Single();
        var env = Guid.Parse(attemptId).ToString("N");
        using var channel = Platform.BackendChannel("sandbox");
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!File.Exists(Path.Combine(Platform.SandboxRoot, env, "home", "log.txt")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the slow step never started");
            await System.Threading.Tasks.Task.Delay(100);
        }
        await Platform.CrashAndRestartSandboxAsync(TimeSpan.FromSeconds(3));

        var attempt = await WaitAsync(campaign.CampaignId);
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attemptId);
        foreach (var e in events.Where(e => e.EventType.StartsWith("action_"))) output.WriteLine($"#{e.Version} {e.EventType} {e.DataJson[..Math.Min(300, e.DataJson.Length)]}");
        var log = events.Where(e => e.EventType == "action_completed").Select(e => e.Field("Stdout").GetString()!).Single(s => s.StartsWith("start", StringComparison.Ordinal));
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The step ran twice (cut off by the crash, run again), but the first run was killed at the restart: one end,
        // after the second start.
        Assert.Equal(["start", "start", "end"], lines.Select(l => l.Split(' ')[0]));
        Assert.Contains("left running by the previous sandbox service", Platform.LogTail("sandbox", 400));
        // The cut-off step is recorded once, completed by its second run.
        var first = Assert.Single(events, e => e.EventType == "action_completed" && e.Field("StepId").GetString()!.EndsWith(":1", StringComparison.Ordinal));
        Assert.Equal(0, first.Field("ExitCode").GetInt32());
    }

    [Fact]
    public async Task The_reconciler_destroys_environments_no_live_attempt_owns_and_records_it()
    {
        var ended = await RunScriptedAsync("reconciler", TimeSpan.FromMinutes(2), new { submit = "" });
        Assert.Equal(AttemptStatus.Completed, ended.Status);
        using var channel = Platform.BackendChannel("sandbox");
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(channel);
        // Two environments behind the platform's back: one named after the ended attempt (its destroy was "lost"),
        // one no attempt knows. Each runs a detached process that must die with it.
        var orphan = Guid.NewGuid().ToString("N");
        var ofEnded = Guid.Parse(ended.AttemptId).ToString("N");
        foreach (var id in new[] { orphan, ofEnded })
        {
            await sandbox.CreateEnvironmentAsync(new Sandbox.V1.CreateEnvironmentRequest { EnvironmentId = id, TaskId = "leak" });
            try
            {
                using var exec = sandbox.Exec(new Sandbox.V1.ExecRequest { EnvironmentId = id, Command = "nohup sleep 100000 >/dev/null 2>&1 & echo ok" });
                await foreach (var _ in exec.ResponseStream.ReadAllAsync()) { }
            }
            catch (RpcException e) when (id == ofEnded && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
            {
                // The reconciler (every 2 s here) may reclaim the ended attempt's environment before the sleeper starts.
            }
        }
        var ids = new HashSet<string> { ofEnded, orphan };
        // Control: the orphan's sleeper is seen while it lives (it is spared for the 5 s grace of an unknown environment).
        Assert.NotNull(HostLeaks.Find(Platform.SandboxRoot, new HashSet<string> { orphan }));

        await EventuallyAsync(async () =>
        {
            var listed = (await sandbox.ListEnvironmentsAsync(new Sandbox.V1.ListEnvironmentsRequest())).Environments.Select(e => e.EnvironmentId);
            return listed.Intersect(ids).FirstOrDefault() is { } left ? $"environment {left} still there" : HostLeaks.Find(Platform.SandboxRoot, ids);
        }, TimeSpan.FromSeconds(60));

        var reclaimed = await ReclaimedAsync();
        var endedRecord = Assert.Single(reclaimed, r => r.GetProperty("EnvironmentId").GetString() == ofEnded);
        Assert.Equal(ended.AttemptId, endedRecord.GetProperty("AttemptId").GetString());
        Assert.Contains("has ended (completed)", endedRecord.GetProperty("Reason").GetString());
        var orphanRecord = Assert.Single(reclaimed, r => r.GetProperty("EnvironmentId").GetString() == orphan);
        Assert.Equal("no attempt owns it", orphanRecord.GetProperty("Reason").GetString());
        var capacity = await sandbox.GetCapacityAsync(new Sandbox.V1.GetCapacityRequest());
        Assert.Equal((await sandbox.ListEnvironmentsAsync(new Sandbox.V1.ListEnvironmentsRequest())).Environments.Count, capacity.EnvironmentsRunning);
    }

    private async Task<List<JsonElement>> ReclaimedAsync()
    {
        await using var connection = new NpgsqlConnection(TestEnv.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select data::text from \"{Platform.Schema}\".mt_events where type = 'environment_reclaimed' order by seq_id", connection);
        var found = new List<JsonElement>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) found.Add(JsonDocument.Parse(reader.GetString(0)).RootElement.Clone());
        return found;
    }

    private static Task EventuallyAsync(Func<string?> problem, TimeSpan patience) => EventuallyAsync(() => System.Threading.Tasks.Task.FromResult(problem()), patience);

    private static async Task EventuallyAsync(Func<Task<string?>> problem, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        string? left;
        while ((left = await problem()) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, left);
            await System.Threading.Tasks.Task.Delay(250);
        }
    }
}
