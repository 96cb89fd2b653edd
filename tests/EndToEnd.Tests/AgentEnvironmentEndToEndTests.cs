using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using ReBench.Orchestrator.V1;
using ReBench.Testing;
using Xunit.Abstractions;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The task variables a variant gives the agent itself (manifest agent_environment_variables / agent_environment_file;
/// tasks/README.md, "The agent's environment"), through real attempts: scripted agent, gateway, orchestrator, the
/// isolated sandbox and the scoring service restarted with a test task and the operator's TaskEnvironment values.
/// The agent's commands see the listed variables and the 0600 file, never a variable listed only for the scorer; the
/// values are in no stored event, export, provenance or service log; a variable the operator left unset fails the
/// attempt's start with FAILED_PRECONDITION's message naming it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentEnvironmentEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string TaskId = "e2e_agent_env";

    private const string Manifest = """
        format_version: 1
        id: e2e_agent_env
        version: 1.0.0
        title: The agent's task variables
        permissions:
          network: false
        resources:
          cpus: 1
          memory_mb: 512
        required_environment_variables: [E2E_JUDGE_URL, E2E_JUDGE_KEY, E2E_SCORER_ONLY]
        agent_environment_variables: [E2E_JUDGE_URL, E2E_JUDGE_KEY]
        agent_environment_file: api.env
        scoring:
          raw_score: whether the scorer saw its variables
          direction: higher
          aggregation: max
          start: 0.0
          reference: 1.0
          measured_by: written by hand for a test
          scorer_timeout_seconds: 60
        variants:
          - name: cpu
            instructions: instructions.md
          - name: unset
            instructions: instructions.md
            overrides:
              required_environment_variables: [E2E_JUDGE_URL, E2E_UNSET_KEY]
              agent_environment_variables: [E2E_UNSET_KEY]

        """;

    // The scorer gets every required variable, as before (the scorer's path is unchanged); it prints no value.
    private const string ScorePy = """
        import json, os
        seen = all(os.environ.get(n) for n in ("E2E_JUDGE_URL", "E2E_JUDGE_KEY", "E2E_SCORER_ONLY"))
        print(json.dumps({"score": 1.0 if seen else 0.0, "message": {"scorer_saw_its_variables": seen}, "details": {}}))

        """;

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_agent_gets_its_declared_variables_and_file_and_the_values_are_stored_nowhere()
    {
        var url = $"http://127.0.0.1:9/v1/judge-{Guid.NewGuid():N}";
        var key = $"jk-{Guid.NewGuid():N}";
        var scorerOnly = $"so-{Guid.NewGuid():N}";
        var root = Directory.CreateTempSubdirectory("rebench-e2e-agent-env-").FullName;
        try
        {
            var bundle = Path.Combine(root, TaskId);
            Write(bundle, "manifest.yaml", Manifest);
            Write(bundle, "instructions.md", "Use the judge.\n");
            Write(bundle, "agent/solution.py", "print('hello')\n");
            Write(bundle, "scoring/score.py", ScorePy);
            Write(bundle, "reference/solution.py", "print('hello')\n");
            await Platform.RestartScoringAsync(new Dictionary<string, string>
            {
                ["Scoring__TasksRoot"] = root,
                ["TaskEnvironment__E2E_JUDGE_URL"] = url,
                ["TaskEnvironment__E2E_JUDGE_KEY"] = key,
                ["TaskEnvironment__E2E_SCORER_ONLY"] = scorerOnly,
            });

            var client = Platform.Orchestrator();
            var steps = new object[]
            {
                // 0: the variables by digest (never by value: the output is recorded), the scorer's one by presence only.
                new { run = "printf %s \"$E2E_JUDGE_URL\" | sha256sum; printf %s \"$E2E_JUDGE_KEY\" | sha256sum; " +
                            "echo scorer_only=${E2E_SCORER_ONLY:+set}; echo names=$(env | grep -c '^E2E_')" },
                // 1: the file: mode, owner against the command's own user, content by digest.
                new { run = "stat -c 'mode=%a owner=%U' ~/api.env; echo me=$(id -un); sha256sum < ~/api.env" },
                new { score = true },
                new { submit = "" },
            };
            var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
            {
                Name = "agent-env", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(4)),
                Tasks = { new TaskRef { TaskId = TaskId, Variant = "cpu" } },
                Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Scripted.Script(steps) } } },
            });
            var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(5))).Single();
            Assert.True(attempt.Status == AttemptStatus.Completed, $"{attempt.Status}: {attempt.FailureReason}");
            var events = await Waits.EventsAsync(client, attempt.AttemptId);
            var completed = events.Where(e => e.EventType == "action_completed").ToList();
            string Out(int i) => completed[i].Field("Stdout").GetString() + completed[i].Field("Stderr").GetString();
            for (var i = 0; i < 2; i++) output.WriteLine($"step {i}: {Out(i)}");

            Assert.Contains(Sha(url), Out(0));
            Assert.Contains(Sha(key), Out(0));
            // Control: required for the scorer only, so not the agent's; and nothing else of the operator's.
            Assert.Contains("scorer_only=\n", Out(0));
            Assert.Contains("names=2", Out(0));

            Assert.Contains("mode=600", Out(1));
            var owner = Out(1).Split('\n').First(l => l.StartsWith("mode=", StringComparison.Ordinal)).Split("owner=")[1];
            Assert.Contains($"me={owner}\n", Out(1));
            Assert.Contains(Sha($"E2E_JUDGE_KEY={key}\nE2E_JUDGE_URL={url}\n"), Out(1));

            var score = events.First(e => e.EventType == "intermediate_score_recorded");
            Assert.True(score.Field("Valid").GetBoolean(), score.DataJson);
            output.WriteLine($"score: {score.DataJson}");
            Assert.Equal(1.0, score.Field("RawScore").GetDouble()); // the scorer saw all three of its variables

            // Provenance: the names the agent got, not the values.
            var started = events.Single(e => e.EventType == "attempt_started");
            Assert.Equal(["E2E_JUDGE_URL", "E2E_JUDGE_KEY"], started.Field("AgentEnvironmentVariables").EnumerateArray().Select(n => n.GetString()));

            // Nowhere stored: every event of the orchestrator's store, the audit export, every service's log.
            var secrets = new[] { url, key, scorerOnly };
            await using (var connection = new NpgsqlConnection(TestEnv.PostgresConnectionString))
            {
                await connection.OpenAsync();
                foreach (var secret in secrets)
                {
                    await using var command = new NpgsqlCommand($"select count(*) from \"{Platform.Schema}\".mt_events where data::text like @p", connection);
                    command.Parameters.AddWithValue("p", $"%{secret}%");
                    Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
                }
                // Control: the search finds what is stored (the attempt's own id).
                await using var control = new NpgsqlCommand($"select count(*) from \"{Platform.Schema}\".mt_events where data::text like @p", connection);
                control.Parameters.AddWithValue("p", $"%{attempt.AttemptId}%");
                Assert.True((long)(await control.ExecuteScalarAsync())! > 0);
            }
            var exported = new StringBuilder();
            using (var export = client.Audit.ExportAttempt(new ExportAttemptRequest { AttemptId = attempt.AttemptId }))
                await foreach (var e in export.ResponseStream.ReadAllAsync()) exported.Append(e.DataJson);
            Assert.Contains("E2E_JUDGE_KEY", exported.ToString()); // control: the provenance's names are in the export
            foreach (var secret in secrets) Assert.DoesNotContain(secret, exported.ToString());
            foreach (var log in Directory.GetFiles(Platform.LogsDir, "*.log"))
            {
                var text = await File.ReadAllTextAsync(log);
                foreach (var secret in secrets) Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{Path.GetFileName(log)} holds a value");
            }
        }
        finally
        {
            await Platform.RestartScoringAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_variable_the_operator_did_not_configure_fails_the_start_naming_it()
    {
        var root = Directory.CreateTempSubdirectory("rebench-e2e-agent-env-").FullName;
        try
        {
            var bundle = Path.Combine(root, TaskId);
            Write(bundle, "manifest.yaml", Manifest);
            Write(bundle, "instructions.md", "Use the judge.\n");
            Write(bundle, "agent/solution.py", "print('hello')\n");
            Write(bundle, "scoring/score.py", ScorePy);
            Write(bundle, "reference/solution.py", "print('hello')\n");
            await Platform.RestartScoringAsync(new Dictionary<string, string>
            {
                ["Scoring__TasksRoot"] = root,
                ["TaskEnvironment__E2E_JUDGE_URL"] = "http://127.0.0.1:9/v1",
            });
            var client = Platform.Orchestrator();
            var steps = new object[] { new { run = "echo started > ~/started.txt" }, new { submit = "" } };
            var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
            {
                Name = "agent-env-unset", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(2)),
                Tasks = { new TaskRef { TaskId = TaskId, Variant = "unset" } },
                Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Scripted.Script(steps) } } },
            });
            var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(3))).Single();
            output.WriteLine($"{attempt.Status}: {attempt.FailureReason}");

            Assert.Equal(AttemptStatus.Failed, attempt.Status);
            Assert.Contains("could not start", attempt.FailureReason);
            Assert.Contains("E2E_UNSET_KEY", attempt.FailureReason);
            Assert.Contains("TaskEnvironment:E2E_UNSET_KEY", attempt.FailureReason);
            var events = await Waits.EventsAsync(client, attempt.AttemptId);
            Assert.DoesNotContain(events, e => e.EventType is "attempt_started" or "agent_launched" or "action_requested");
        }
        finally
        {
            await Platform.RestartScoringAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Write(string dir, string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
