namespace ReBench.EndToEnd.Tests;

/// <summary>
/// What the agent may read of the protected area, through a real attempt (scripted agent, gateway, orchestrator,
/// isolated sandbox, scoring service) on the rust cpu task, whose manifest makes score.py and harness.py readable
/// and keeps the held-out problems (test_problems.py) hidden, as upstream does (tasks/README.md, "What the agent may
/// read"). The agent reads and runs the readable files, cannot change them, and cannot read the hidden one, which the
/// official scorer still reads (its score is valid).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentReadableEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string Task = "ai_rd_rust_codecontests_inference";
    /// <summary>The opening words of the hidden file: were they ever in the agent's output, it read the file.</summary>
    private const string HiddenMarker = "The held-out problems of the cpu variant";

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_agent_reads_and_runs_the_readable_scorer_cannot_write_it_and_cannot_read_the_held_out_problems()
    {
        var scoring = Path.Combine(TestEnv.RepoRoot, "tasks", Task, "variants", "cpu", "scoring");
        Assert.Contains(HiddenMarker, await File.ReadAllTextAsync(Path.Combine(scoring, "test_problems.py"))); // control: the marker is real
        const string Area = "P=$(dirname \"$(readlink -f score.py)\")";
        var steps = new object[]
        {
            // 0: read: the home link to score.py and both readable files, by content.
            new { run = $"{Area}; readlink score.py; sha256sum \"$P/score.py\" \"$P/harness.py\"; echo END" },
            // 1: run: the readable harness imported from the protected area, then score.py itself, unofficially: it
            //    needs the hidden problems, so it must fail without showing them.
            new { run = $"{Area}; python3 -c \"import sys; sys.path.insert(0, '$P'); import harness; print('RAN', callable(harness.run_module))\"; python3 score.py; echo rc=$?" },
            // 2: write: append, replace, remove, chmod, a new file beside them.
            new { run = $"{Area}; echo x >> \"$P/score.py\"; echo append=$?; cp /dev/null \"$P/harness.py\"; echo replace=$?; rm -f \"$P/score.py\"; echo rm=$?; chmod 777 \"$P/score.py\"; echo chmod=$?; touch \"$P/new.py\"; echo new=$?; echo x >> score.py; echo link=$?" },
            // 3: the hidden held-out problems, beside the files it just read.
            new { run = $"{Area}; cat \"$P/test_problems.py\"; echo cat=$?; python3 -c \"import sys; sys.path.insert(0, '$P'); import test_problems\"; echo import=$?" },
            new { score = true },
            new { submit = "" },
        };
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "agent-readable", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(6)),
            Tasks = { new TaskRef { TaskId = Task, Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Scripted.Script(steps) } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(8))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var completed = events.Where(e => e.EventType == "action_completed").ToList();
        string Out(int i) => completed[i].Field("Stdout").GetString() + completed[i].Field("Stderr").GetString() + (completed[i].Field("Error").GetString() ?? "");
        for (var i = 0; i < 4; i++) output.WriteLine($"step {i}: {Out(i)[..Math.Min(1500, Out(i).Length)]}");

        Assert.Contains("../protected/score.py", Out(0));
        Assert.Contains(Sha256(Path.Combine(scoring, "score.py")), Out(0));
        // The harness is the task's one copy, layered into the variant's scoring folder (manifest `layers`).
        Assert.Contains(Sha256(Path.Combine(TestEnv.RepoRoot, "tasks", Task, "scoring", "harness.py")), Out(0));

        Assert.Contains("RAN True", Out(1));
        Assert.Contains("PermissionError", Out(1)); // score.py ran and stopped at the hidden file
        Assert.DoesNotContain("rc=0", Out(1));

        foreach (var op in new[] { "append", "replace", "rm", "chmod", "new", "link" }) Assert.Contains($"{op}=1", Out(2));

        Assert.Contains("Permission denied", Out(3));
        Assert.Contains("cat=1", Out(3));
        Assert.Contains("import=1", Out(3));
        foreach (var i in Enumerable.Range(0, 4)) Assert.DoesNotContain(HiddenMarker, Out(i));

        var score = events.First(e => e.EventType == "intermediate_score_recorded");
        output.WriteLine($"intermediate score: {score.DataJson[..Math.Min(800, score.DataJson.Length)]}");
        Assert.True(score.Field("Valid").GetBoolean(), "control: the official scorer read the hidden problems");
        Assert.Contains("n_problems", score.DataJson);
        // The scoring service's tamper check: the scorer and the protected files are the bundle's, unchanged.
        Assert.False(score.Field("FlaggedForReview").GetBoolean());
    }
}
