using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using ReBench.Orchestrator.V1;
using ReBench.Scoring.V1;
using ReBench.Testing;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// An outsider's attacks on issue 16's boundaries (auditor key, results store edits), against the gateway and the
/// services as processes. Each test states the attack in its name and fails while the attack works.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AttackIssue16Tests(PlatformProcesses platform) : PlatformTest(platform)
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    /// <summary>
    /// The auditor's policy compares method names ordinally and refuses Reports' writes by name (a deny-list), while
    /// the gateway's routes and the backend's gRPC endpoints match paths case-insensitively: "importHumanBaselines"
    /// passes the policy, is forwarded, and runs ImportHumanBaselines under the read-only auditor key.
    /// </summary>
    [Fact]
    public async Task Auditor_key_cannot_import_human_baselines_with_a_lower_case_method_name()
    {
        var marker = "attack16-" + Guid.NewGuid().ToString("N")[..8];
        var request = new ImportHumanBaselinesRequest
        {
            Csv = $"task,variant,raw_score,hours,row_id\nai_rd_triton_cumsum,cpu,0.5,8,{marker}\n",
            Source = marker,
        };
        var marshaller = Marshallers.Create((ImportHumanBaselinesRequest m) => m.ToByteArray(), ImportHumanBaselinesRequest.Parser.ParseFrom);
        var response = Marshallers.Create((ImportHumanBaselinesResponse m) => m.ToByteArray(), ImportHumanBaselinesResponse.Parser.ParseFrom);
        var invoker = Platform.PublicChannel(PlatformProcesses.AuditorKey).CreateCallInvoker();
        async Task<Status> CallAs(string methodName)
        {
            var method = new Method<ImportHumanBaselinesRequest, ImportHumanBaselinesResponse>(
                MethodType.Unary, Scoring.V1.Reports.Descriptor.FullName, methodName, marshaller, response);
            try
            {
                await invoker.AsyncUnaryCall(method, null, new CallOptions(), request);
                return Status.DefaultSuccess;
            }
            catch (RpcException e)
            {
                return e.Status;
            }
        }

        // Control: the method's own name is refused to the auditor by the gateway.
        var canonical = await CallAs("ImportHumanBaselines");
        Assert.Equal(StatusCode.PermissionDenied, canonical.StatusCode);

        var answered = new List<string>();
        foreach (var variant in new[] { "importHumanBaselines", "IMPORTHUMANBASELINES", "correctHumanBaseline" })
        {
            var status = await CallAs(variant);
            if (status.StatusCode is not (StatusCode.PermissionDenied or StatusCode.Unimplemented))
                answered.Add($"{variant}: {status.StatusCode} {status.Detail}");
        }
        var rows = await new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel())
            .ListHumanBaselinesAsync(new ListHumanBaselinesRequest());
        var imported = rows.Rows.Where(r => r.RowKey == marker || r.Source.Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.True(answered.Count == 0 && imported.Count == 0,
            $"the auditor key reached Reports' writes: {string.Join("; ", answered)}; rows imported: " +
            string.Join(", ", imported.Select(r => $"{r.AttemptId} source={r.Source}")));
    }

    /// <summary>
    /// A verified report skips every row whose Source is not "orchestrator" (human rows are "not sealed"), but still
    /// counts it under its agent: an orchestrator row edited with SQL to another Source and a better score moves the
    /// campaign's score@1 from 0 to 0.9 and `--verify` accepts it.
    /// </summary>
    [Fact]
    public async Task A_verified_report_refuses_an_edited_row_relabelled_as_not_sealed()
    {
        var (campaign, attempt) = await RunCampaignAsync("attack16-relabel");
        var reports = new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel());
        var filter = new ReportFilter { CampaignIds = { campaign }, Verify = true };
        // Control: untouched, the verified report reads one matching row scoring 0.
        var before = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        Assert.Equal(0.0, Assert.Single(before.Rows).Score);
        Assert.True(before.Inputs.Verified);

        Assert.Equal(1, await SqlAsync(
            $"update \"{Platform.Schema}_reports\".mt_doc_attemptresult set data = data || " +
            "jsonb_build_object('Source', 'human-import:x', 'NormalizedScore', 0.9, 'Valid', true) where data ->> 'AttemptId' = @id",
            attempt.AttemptId));

        ScoreAtKResponse after;
        try
        {
            after = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return; // refused: the attack failed
        }
        Assert.Fail($"the verified report accepted the edited row: score@1 {string.Join(",", after.Rows.Select(r => $"{r.Agent}={r.Score}"))}; verified={after.Inputs.Verified}; inputs: {after.Inputs.Statement}");
    }

    /// <summary>
    /// A verified report checks the rows it read and never asks whether rows are missing: deleting a campaign's
    /// worst row with SQL raises its score@1 and `--verify` still says the inputs match (verify --campaign alone notices).
    /// </summary>
    [Fact]
    public async Task A_verified_campaign_report_refuses_when_a_row_was_deleted()
    {
        var (campaign, attempt) = await RunCampaignAsync("attack16-deleted", attempts: 2);
        var reports = new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel());
        var filter = new ReportFilter { CampaignIds = { campaign }, Verify = true };
        var before = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        Assert.True(before.Inputs.Verified);

        Assert.Equal(1, await SqlAsync(
            $"delete from \"{Platform.Schema}_reports\".mt_doc_attemptresult where data ->> 'AttemptId' = @id", attempt.AttemptId));

        ScoreAtKResponse after;
        try
        {
            after = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return;
        }
        Assert.Fail($"the verified report accepted a campaign with a deleted row: verified={after.Inputs.Verified}; inputs: {after.Inputs.Statement}");
    }

    /// <summary>
    /// The access log finds the methods that read content by the call's path, compared ordinally, while the gateway's
    /// routes and the orchestrator's endpoints match it case-insensitively: an admin key that calls
    /// "readAttemptEvents", "exportAttempt" or "verifyAttempt" reads the whole transcript and leaves no access event.
    /// </summary>
    [Fact]
    public async Task A_read_through_a_lower_case_method_name_still_leaves_an_access_event()
    {
        var (_, attempt) = await RunCampaignAsync("attack16-unlogged");
        var client = Platform.Orchestrator();
        async Task<int> CountAsync() =>
            (await client.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = attempt.AttemptId })).Events.Count;
        var invoker = Platform.PublicChannel().CreateCallInvoker();
        var read = new ReadAttemptEventsRequest { AttemptId = attempt.AttemptId };
        async Task<List<AttemptEvent>> ReadAsync(string methodName)
        {
            var method = new Method<ReadAttemptEventsRequest, AttemptEvent>(MethodType.ServerStreaming, Orchestrator.V1.Attempts.Descriptor.FullName, methodName,
                Marshallers.Create((ReadAttemptEventsRequest m) => m.ToByteArray(), ReadAttemptEventsRequest.Parser.ParseFrom),
                Marshallers.Create((AttemptEvent m) => m.ToByteArray(), AttemptEvent.Parser.ParseFrom));
            using var call = invoker.AsyncServerStreamingCall(method, null, new CallOptions(), read);
            var events = new List<AttemptEvent>();
            await foreach (var e in call.ResponseStream.ReadAllAsync()) events.Add(e);
            return events;
        }

        // Control: the method's own name is a read on the record.
        var start = await CountAsync();
        var canonical = await ReadAsync("ReadAttemptEvents");
        Assert.NotEmpty(canonical);
        var afterCanonical = await CountAsync();
        Assert.Equal(start + 1, afterCanonical);

        var variant = await ReadAsync("readAttemptEvents");
        var verify = new Method<VerifyAttemptRequest, VerifyAttemptResponse>(MethodType.Unary, Orchestrator.V1.Audit.Descriptor.FullName, "verifyAttempt",
            Marshallers.Create((VerifyAttemptRequest m) => m.ToByteArray(), VerifyAttemptRequest.Parser.ParseFrom),
            Marshallers.Create((VerifyAttemptResponse m) => m.ToByteArray(), VerifyAttemptResponse.Parser.ParseFrom));
        await invoker.AsyncUnaryCall(verify, null, new CallOptions(), new VerifyAttemptRequest { AttemptId = attempt.AttemptId });
        var end = await CountAsync();
        Assert.True(end == afterCanonical + 2,
            $"read {variant.Count} events through readAttemptEvents and verified through verifyAttempt; access events {afterCanonical} -> {end} (expected +2)");
    }

    /// <summary>
    /// A hostile agent looks for its attempt's session credential and the platform's keys in the sandbox: its
    /// environment, every process's environment and command line it can see, the files it can list. None of them may
    /// appear in its command output, in the attempt's events, or in any service's log. Control: the credential the
    /// driver sent is known to the test (so a search for it cannot pass vacuously) and the output is not empty.
    /// </summary>
    [Fact]
    public async Task A_hostile_agent_finds_no_session_credential_or_key_in_its_sandbox_events_or_logs()
    {
        const string Hunt = "id; env; ps -eo user,pid,args 2>&1 | head -300; " +
            "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; tr '\\0' '\\n' < $p/environ 2>/dev/null; done | head -c 60000; " +
            "timeout 20 grep -rIl -e x-rebench -e Platform__ -e platform.key /etc /home /tmp /run /var /root /opt 2>/dev/null | head -50";
        var (_, attempt) = await RunCampaignAsync("attack16-hunt", script: [new { run = Hunt }, new { run = "echo second-step" }, new { submit = "done" }]);
        var credential = Platform.CredentialOf(attempt.AttemptId);
        Assert.Equal(43, credential.Length);

        var events = await Waits.EventsAsync(Platform.Orchestrator(), attempt.AttemptId);
        var transcript = string.Join("\n", events.Select(e => e.DataJson));
        Assert.Contains("uid=", transcript); // the hunt ran and its output was recorded
        var secrets = new Dictionary<string, string>
        {
            ["session credential"] = credential, ["platform key"] = TestPlatformKey.Key,
            ["admin API key"] = PlatformProcesses.ApiKey, ["auditor API key"] = PlatformProcesses.AuditorKey,
        };
        var found = new List<string>();
        foreach (var (name, secret) in secrets)
        {
            if (transcript.Contains(secret, StringComparison.Ordinal)) found.Add($"{name} in the attempt's events");
        }
        var logs = Directory.GetParent(Platform.SandboxRoot)!.GetFiles("*.log");
        Assert.NotEmpty(logs);
        foreach (var log in logs)
        {
            var text = await File.ReadAllTextAsync(log.FullName);
            foreach (var (name, secret) in secrets)
                if (text.Contains(secret, StringComparison.Ordinal)) found.Add($"{name} in {log.Name}");
        }
        Assert.True(found.Count == 0, string.Join("; ", found));
    }

    /// <summary>
    /// Audit work is marked only by ReexecuteAttempt; CreateCampaign accepts the replay agent with source_attempt set,
    /// and the replay driver re-executes the source (its reader checks only that setting). The result is an unmarked
    /// re-execution, counted in every default report as research work.
    /// </summary>
    [Fact]
    public async Task A_campaign_of_the_replay_agent_is_refused_or_marked_as_audit_work()
    {
        var (_, source) = await RunCampaignAsync("attack16-replay-source");
        var client = Platform.Orchestrator();
        Campaign campaign;
        try
        {
            campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
            {
                Name = "attack16-replay-as-research", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(Budget),
                Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
                Agents = { new AgentSpec { Name = "replay", Settings = { ["source_attempt"] = source.AttemptId } } },
            });
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.PermissionDenied)
        {
            return; // refused: only ReexecuteAttempt makes re-executions
        }
        var replayed = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        await ResultRecordedAsync(replayed.AttemptId, campaign.CampaignId);
        var report = await new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel()).CostsAsync(
            new CostsRequest { Filter = new ReportFilter { CampaignIds = { campaign.CampaignId } } });
        var row = report.Attempts.SingleOrDefault(a => a.AttemptId == replayed.AttemptId);
        Assert.True(campaign.AuditWork && row is null,
            $"campaign audit_work={campaign.AuditWork}; re-execution {replayed.AttemptId} ({replayed.Status}, actions {replayed.ActionCount}) " +
            $"in the default costs report: {(row is null ? "no" : "yes, audit_work=" + row.AuditWork)}");
    }

    private async Task<(string Campaign, Attempt Attempt)> RunCampaignAsync(string name, int attempts = 1, object[]? script = null)
    {
        var client = Platform.Orchestrator();
        var steps = script ?? [new { run = "echo attack" }, new { submit = "done" }];
        var text = string.Join('\n', steps.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = name, AttemptsPerPair = attempts, TimeBudget = Duration.FromTimeSpan(Budget),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = text } } },
        });
        var finished = await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4));
        foreach (var a in finished) await ResultRecordedAsync(a.AttemptId, campaign.CampaignId);
        return (campaign.CampaignId, finished[0]);
    }

    private async Task ResultRecordedAsync(string attemptId, string campaignId)
    {
        var reports = new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel());
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var costs = await reports.CostsAsync(new CostsRequest { Filter = new ReportFilter { CampaignIds = { campaignId }, IncludeAudit = true } });
            if (costs.Attempts.Any(a => a.AttemptId == attemptId)) return;
            Assert.True(DateTime.UtcNow < deadline, $"the result of attempt {attemptId} was not recorded\n{Platform.LogTail("scoring")}");
            await Task.Delay(300);
        }
    }

    private static async Task<int> SqlAsync(string sql, string attemptId)
    {
        await using var connection = new NpgsqlConnection(TestEnv.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", attemptId);
        return await command.ExecuteNonQueryAsync();
    }
}
