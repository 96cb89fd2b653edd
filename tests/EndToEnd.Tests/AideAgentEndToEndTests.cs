namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The AIDE scaffold through the real platform processes on the CPU prefix-sum task, driven by a scripted model (a
/// real HTTP server on loopback speaking the OpenAI chat-completions protocol): a draft that crashes, its debug (the
/// slow starting solution), an improvement (the reference solution) and a worse improvement; the reference must be
/// the node kept, restored and submitted, and the tree must be in the attempt's stream.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AideAgentEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private static string Read(string part) => File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "tasks", "ai_rd_triton_cumsum", part, "solution.py"));

    private static string Answer(string plan, string code) => $"{plan}\n\n```python\n{code.TrimEnd()}\n```\n";

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Aide_explores_draft_debug_and_improvements_and_submits_the_best_node_with_its_tree_in_the_stream()
    {
        var slow = Read("agent");
        var fast = Read("reference");
        var slower = fast.Replace("    return np.cumsum(", "    time.sleep(0.05)\n    return np.cumsum(", StringComparison.Ordinal)
            .Replace("import numpy as np", "import time\n\nimport numpy as np", StringComparison.Ordinal);
        Assert.NotEqual(fast, slower);
        using var model = new ScriptedTextModel(Platform.LlmPort,
            Answer("Vectorize the scan.", "import numpy as np\n\ndef prefix_sum(x) -> np.ndarray:\n    return np.cumsum(x, dtype=np.int32\n"),
            Answer("Close the parenthesis; start from the plain loop to be safe.", slow),
            Answer("Replace the loop with an exclusive xor-scan of the positives and one cumsum.", fast),
            Answer("Pause between passes to let caches settle.", slower));

        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "aide-e2e", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents =
            {
                new AgentSpec
                {
                    Name = "aide",
                    Settings =
                    {
                        ["provider"] = "scripted", ["solution_file"] = "solution.py", ["num_drafts"] = "1", ["max_debug_depth"] = "2",
                        ["debug_prob"] = "1", ["max_nodes"] = "4", ["exec_timeout_seconds"] = "60", ["seed"] = "1",
                    },
                },
            },
        });
        var attempts = await CampaignFinishedAsync(campaign.CampaignId, output, ["agents", "orchestrator"]);

        var attempt = attempts.Single();
        output.WriteLine($"aide raw={attempt.RawScore} normalized={attempt.NormalizedScore}");
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var notes = events.Where(e => e.EventType == "agent_note_recorded").ToList();
        foreach (var e in events)
            output.WriteLine($"#{e.Version} {e.EventType} {(e.EventType == "agent_note_recorded" ? e.Field("Json").GetString() : e.DataJson.Length > 300 ? e.DataJson[..300] : e.DataJson)}");
        var nodes = notes.Where(e => e.Field("Kind").GetString() == "aide_node").Select(e => JsonNode.Parse(e.Field("Json").GetString()!)!).ToList();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        Assert.True(attempt.FinalScoreValid);
        Assert.True(attempt.NormalizedScore >= 0.85, $"normalized score {attempt.NormalizedScore}");
        Assert.Equal(["draft", "debug", "improve", "improve"], nodes.Select(n => (string?)n["operation"]));
        Assert.Equal([null, 0, 1, 2], nodes.Select(n => (int?)n["parent"]));
        Assert.Equal([true, false, false, false], nodes.Select(n => (bool)n["buggy"]!));
        Assert.Contains("exited with code 1", (string?)nodes[0]["buggy_reason"]);
        var scores = nodes.Skip(1).Select(n => (double)n["normalized_score"]!).ToList();
        Assert.True(scores[1] > scores[0] && scores[1] > scores[2], $"normalized scores of nodes 1-3: {string.Join(", ", scores)}");

        var tree = JsonNode.Parse(Assert.Single(notes, e => e.Field("Kind").GetString() == "aide_tree").Field("Json").GetString()!)!;
        Assert.Equal(2, (int)tree["best_node"]!);
        Assert.Equal([false, false, true, false], tree["nodes"]!.AsArray().Select(n => (bool)n!["chosen"]!));

        // The submitted solution is the best node's: the last file written before the submission has its digest.
        var types = events.Select(e => e.EventType).ToList();
        var submitted = types.IndexOf("submission_received");
        Assert.True(types.IndexOf("agent_note_recorded") < submitted && types.LastIndexOf("agent_note_recorded") < submitted);
        var lastWrite = events.Take(submitted).Last(e => e.EventType == "action_requested" && e.Field("Kind").GetString() == "write_file");
        var bestDigest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fast.TrimEnd() + "\n")));
        Assert.Equal(bestDigest, (string?)tree["best_code_sha256"]);
        Assert.Equal(bestDigest, lastWrite.Field("ContentSha256").GetString());
        Assert.Equal("solution.py", lastWrite.Field("Path").GetString());

        Assert.Equal(4, events.Count(e => e.EventType == "model_call_completed"));
        Assert.Contains("SyntaxError", model.Requests[1]); // the debug prompt showed the crash
        Assert.DoesNotContain(events, e => e.DataJson.Contains(PlatformProcesses.LlmApiKey, StringComparison.Ordinal));
    }

    /// <summary>Answers each POST /v1/chat/completions with the next scripted plain-text answer.</summary>
    private sealed class ScriptedTextModel(int port, params string[] answers) : LoopbackModel(port)
    {
        private readonly string[] _answers = answers;
        private readonly ConcurrentQueue<string> _requests = new();

        public IReadOnlyList<string> Requests => [.. _requests];

        protected override (int Status, JsonObject Body)? Answer(int n, string body, HttpListenerRequest request)
        {
            _requests.Enqueue(body);
            return (200, Text(n, n < _answers.Length ? _answers[n] : "No more ideas."));
        }
    }
}
