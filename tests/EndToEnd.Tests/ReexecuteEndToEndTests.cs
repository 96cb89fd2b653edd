namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Re-execution as an auditor runs it: a scripted attempt on the CPU prefix-sum task (file writes, runs, a score, a
/// submit), then `rebench reexecute --wait` (the built CLI as a process through the gateway), which provisions a fresh
/// attempt of agent replay and compares it with the original action by action.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ReexecuteEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private static readonly string ReferenceSolution =
        File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tasks", "ai_rd_triton_cumsum", "reference", "solution.py"));

    // Larger than the 512-byte preview an ActionRequested keeps: its content can only come back from the blob store.
    private static readonly string CheckScript =
        "\"\"\"Checks solution.prefix_sum on a small input against a plain Python loop.\"\"\"\n" +
        string.Concat(Enumerable.Range(1, 12).Select(i => $"# padding line {i}: the blob store must return this whole file, not a preview\n")) +
        "import numpy as np\nsolution = {}\nexec(open('solution.py').read(), solution)\nprefix_sum = solution['prefix_sum']\n" +
        "x = np.array([3, -1, 2, 5, -4, 1, 0, 7], dtype=np.int32)\n" +
        "out, total, positives = [], 0, 0\n" +
        "for v in x:\n    total += v if positives % 2 == 1 else 0\n    out.append(total)\n    positives += v > 0\n" +
        "assert list(prefix_sum(x)) == out, (list(prefix_sum(x)), out)\n" +
        "print('prefix_sum ok', out)\n";

    // Three attempts of the task (the original and two re-executions, each scored twice): 5-10 s on an idle machine,
    // about 50 s while other builds load it.
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_re_execution_re_runs_every_action_with_the_same_exit_codes_and_reproduces_the_score()
    {
        Assert.True(CheckScript.Length > 512);
        var client = Platform.Orchestrator();
        var script = string.Join('\n', new object[]
        {
            new { write = "solution.py", content = ReferenceSolution },
            new { write = "check_solution.py", content = CheckScript },
            // In the e2e sandbox the agent user cannot resolve its home's absolute path (getcwd answers EACCES: the test's
            // sandbox root is a 0700 temporary folder), and Python's import system needs it for "" on sys.path, so the
            // check drops "" and loads solution.py by a relative open instead of an import.
            new { run = "/usr/bin/python3 -c \"import sys; sys.path = [p for p in sys.path if p]; exec(open('check_solution.py').read())\"", timeout = 120 },
            new { run = "echo to stderr >&2; exit 3", timeout = 30 },
            new { score = true },
            new { submit = "reference, checked" },
        }.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "reexecute-source", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var sourceId = campaign.AttemptIds.Single();

        // Not ended yet (it has not even scored): refused, deterministically, since its scorer runs take seconds.
        var running = await Assert.ThrowsAsync<RpcException>(() => client.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = sourceId }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, running.StatusCode);
        Assert.Contains("has not ended", running.Status.Detail);

        var source = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(6))).Single();
        Assert.True(source.Status == AttemptStatus.Completed, $"{source.Status}: {source.FailureReason}\n{Platform.LogTail("orchestrator")}");
        Assert.True(source.FinalScoreValid);
        Assert.Equal("", source.ReexecutionOf);

        // The final score is a timing on a loaded 2-core machine: the tolerance is wider than the default 0.05.
        var (code, text) = await CliAsync("reexecute", sourceId, "--wait", "--tolerance", "0.3", "--format", "json");
        Assert.True(code == 0, $"{text}\n{Platform.LogTail("agents")}\n{Platform.LogTail("orchestrator")}");
        var json = text[text.IndexOf('{')..(text.LastIndexOf('}') + 1)];
        using var doc = JsonDocument.Parse(json);
        var report = doc.RootElement.GetProperty("report");
        Assert.True(report.GetProperty("reproduced").GetBoolean());
        Assert.True(report.GetProperty("exit_codes_match").GetBoolean());
        Assert.True(report.GetProperty("score_reproduces").GetBoolean());
        Assert.Equal(6, report.GetProperty("actions").GetArrayLength());

        // The link, on the new attempt itself.
        var rerunId = doc.RootElement.GetProperty("reexecution").GetString()!;
        var rerun = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = rerunId });
        Assert.Equal(sourceId, rerun.ReexecutionOf);
        Assert.Equal("replay", rerun.Agent.Name);
        Assert.Equal(source.Task, rerun.Task);
        Assert.Equal(source.TimeBudget, rerun.TimeBudget);
        Assert.Equal(source.BundleDigest, rerun.BundleDigest);
        Assert.NotEqual(source.CampaignId, rerun.CampaignId);
        Assert.Equal(AttemptStatus.Completed, rerun.Status);
        Assert.InRange(Math.Abs(rerun.NormalizedScore - source.NormalizedScore), 0, 0.3);

        // Every recorded action ran again, under a step id derived from the original's, with the same exit code.
        var original = Completed(await Waits.EventsAsync(client, sourceId));
        var replayed = Completed(await Waits.EventsAsync(client, rerunId));
        Assert.Equal(4, original.Count);
        Assert.Equal(original.Count, replayed.Count);
        foreach (var (step, exit) in original)
            Assert.Equal(exit, replayed[$"{rerunId}:replay:{step}"]);
        Assert.Contains(3, original.Values);
        var rerunEvents = await Waits.EventsAsync(client, rerunId);
        Assert.DoesNotContain(rerunEvents, e => e.EventType == "model_call_completed");
        var check = rerunEvents.First(e => e.EventType == "action_completed" && e.Field("StepId").GetString()!.EndsWith(":3"));
        Assert.True(check.Field("Stdout").GetString()!.Contains("prefix_sum ok"), check.DataJson);

        // The table form: one row per action, the verdict last.
        (code, text) = await CliAsync("reexecute", sourceId, "--wait", "--tolerance", "0.3");
        Assert.True(code == 0, text);
        Assert.Contains("exit orig", text);
        Assert.Contains("echo to stderr >&2; exit 3", text);
        Assert.EndsWith("\nREPRODUCED", text.TrimEnd());

        // The replay driver read the source with the rerun's own session credential, like every other driver; with
        // the rerun ended, that credential reads nothing more, and it never was the source's.
        var rerunCredential = Platform.CredentialOf(rerunId);
        Assert.Single(Platform.Tap.CredentialsOf(rerunId));
        var session = Platform.Session(rerunCredential);
        var ended = await Assert.ThrowsAsync<RpcException>(() => session.GetRecordedActionsAsync(new GetRecordedActionsRequest
        {
            AttemptId = rerunId, SourceAttemptId = sourceId,
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ended.StatusCode);
        Assert.Contains("has ended", ended.Status.Detail);
        var denied = await Assert.ThrowsAsync<RpcException>(() => session.GetRecordedActionsAsync(new GetRecordedActionsRequest
        {
            AttemptId = sourceId, SourceAttemptId = rerunId,
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.DoesNotContain(rerunCredential, denied.Status.Detail);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_exit_code_two_and_a_clear_status()
    {
        var client = Platform.Orchestrator();
        var unknown = Guid.NewGuid().ToString();
        var e = await Assert.ThrowsAsync<RpcException>(() => client.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = unknown }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains($"attempt {unknown} does not exist", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => client.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = "not-an-id" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("attempt_id", e.Status.Detail);

        var (code, text) = await CliAsync("reexecute", unknown, "--wait");
        Assert.True(code == 4, text); // not found (the CLI's exit-code table)
        Assert.Contains("does not exist", text);
        (code, text) = await CliAsync("reexecute", unknown, "--tolerance", "-1");
        Assert.True(code == 2, text);
        Assert.Contains("--tolerance", text);
        (code, text) = await CliAsync("reexecute", unknown, "--format", "xml");
        Assert.True(code == 2, text);
        Assert.Contains("--format", text);

        // The session call the replay driver uses needs a session credential, and one for the attempt it names.
        var denied = await Assert.ThrowsAsync<RpcException>(() => Platform.Session().GetRecordedActionsAsync(new GetRecordedActionsRequest
        {
            AttemptId = unknown, SourceAttemptId = Guid.NewGuid().ToString(),
        }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, denied.StatusCode);
        denied = await Assert.ThrowsAsync<RpcException>(() => Platform.Session(new string('x', 43)).GetRecordedActionsAsync(new GetRecordedActionsRequest
        {
            AttemptId = unknown, SourceAttemptId = Guid.NewGuid().ToString(),
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    private static Dictionary<string, int> Completed(IEnumerable<AttemptEvent> events) =>
        events.Where(e => e.EventType == "action_completed")
            .ToDictionary(e => e.Field("StepId").GetString()!, e => e.Field("ExitCode").GetInt32());

    private Task<(int, string)> CliAsync(params string[] args) =>
        Cli.RebenchAsync(output, Platform, PlatformProcesses.ApiKey, TimeSpan.FromMinutes(6), args);
}
