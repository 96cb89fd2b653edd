using MassTransit;
using ReBench.Scoring.V1;

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
        Assert.True(Assert.Single(before.Rows).Score < 0.5); // the scripted noop's timing-based score is near 0
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

        // Any other spelling of a method's path reaches no method: nothing is served, so nothing goes unrecorded.
        var served = new List<string>();
        foreach (var name in new[] { "readAttemptEvents", "READATTEMPTEVENTS", "ReadAttemptEvents/" })
        {
            try
            {
                served.Add($"{name}: {(await ReadAsync(name)).Count} events");
            }
            catch (RpcException e)
            {
                Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
            }
        }
        var verify = new Method<VerifyAttemptRequest, VerifyAttemptResponse>(MethodType.Unary, Orchestrator.V1.Audit.Descriptor.FullName, "verifyAttempt",
            Marshallers.Create((VerifyAttemptRequest m) => m.ToByteArray(), VerifyAttemptRequest.Parser.ParseFrom),
            Marshallers.Create((VerifyAttemptResponse m) => m.ToByteArray(), VerifyAttemptResponse.Parser.ParseFrom));
        try
        {
            await invoker.AsyncUnaryCall(verify, null, new CallOptions(), new VerifyAttemptRequest { AttemptId = attempt.AttemptId });
            served.Add("verifyAttempt");
        }
        catch (RpcException e)
        {
            Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        }
        Assert.True(served.Count == 0, $"served under another spelling: {string.Join(", ", served)}");
        Assert.Equal(afterCanonical, await CountAsync());
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

    /// <summary>
    /// A process on the host with no key sends raw HTTP/2 gRPC requests with odd paths (percent-encoded slashes and
    /// dots, another case, health or AttemptSession prefixes in front of another method, trailing segments) and
    /// HTTP/1.1 to every listener. None may reach a method it is not allowed: every answer is a refusal
    /// (UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED) or an HTTP error, never OK or a method's own validation error.
    /// Control: the same client reaches a backend's ListEnvironments with a service token (answered, OK).
    /// </summary>
    [Fact]
    public async Task Odd_paths_and_protocols_reach_no_method_without_a_key()
    {
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(20) };
        async Task<string> SendAsync(int port, string path, Version version, string? token = null)
        {
            var uri = new Uri($"http://127.0.0.1:{port}{path}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            using var request = new HttpRequestMessage(HttpMethod.Post, uri)
            {
                Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(new byte[5]),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
            request.Headers.TryAddWithoutValidation("te", "trailers");
            if (token is not null) request.Headers.TryAddWithoutValidation(ReBench.ServiceDefaults.PlatformAuth.PlatformTokens.Header, token);
            try
            {
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                var status = response.Headers.TryGetValues("grpc-status", out var h) ? h.First()
                    : response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First() : null;
                return status is null ? $"http {(int)response.StatusCode}" : $"grpc {status}";
            }
            catch (HttpRequestException e)
            {
                return "refused connection: " + e.HttpRequestError;
            }
        }
        // Control: a valid token reaches the sandbox's ListEnvironments over the same raw client.
        var token = TestPlatformKey.Token(TestPlatformKey.Principal, TestPlatformKey.Role);
        Assert.Equal("grpc 0", await SendAsync(Platform.Port("sandbox"), "/rebench.sandbox.v1.Sandbox/ListEnvironments", HttpVersion.Version20, token));

        var probes = new List<(int Port, string Path, Version Version)>();
        foreach (var backend in new[] { ("orchestrator", "/rebench.orchestrator.v1.Attempts/ListAttempts"), ("sandbox", "/rebench.sandbox.v1.Sandbox/ListEnvironments"),
                     ("scoring", "/rebench.scoring.v1.Scoring/ListTasks"), ("agents", "/rebench.agents.v1.Agents/ListAgents") })
        {
            var port = Platform.Port(backend.Item1);
            var target = backend.Item2;
            probes.Add((port, target, HttpVersion.Version20));
            probes.Add((port, target.ToLowerInvariant(), HttpVersion.Version20));
            probes.Add((port, "/grpc.health.v1.Health/../.." + target, HttpVersion.Version20));
            probes.Add((port, "/grpc.health.v1.Health/%2E%2E/%2E%2E" + target, HttpVersion.Version20));
            probes.Add((port, "/grpc.health.v1.Health%2F..%2F.." + target.Replace("/", "%2F"), HttpVersion.Version20));
            probes.Add((port, "/GRPC.HEALTH.V1.HEALTH/..%2F.." + target, HttpVersion.Version20));
            probes.Add((port, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", HttpVersion.Version20));
            probes.Add((port, target, HttpVersion.Version11));
        }
        foreach (var port in new[] { Platform.Port("gateway"), Platform.InternalPort })
        {
            const string Target = "/rebench.orchestrator.v1.Attempts/ListAttempts";
            probes.Add((port, Target, HttpVersion.Version20));
            probes.Add((port, "/grpc.health.v1.Health/../.." + Target, HttpVersion.Version20));
            probes.Add((port, "/grpc.health.v1.Health/%2E%2E/%2E%2E" + Target, HttpVersion.Version20));
            probes.Add((port, "/rebench.orchestrator.v1.AttemptSession/..%2F.." + Target, HttpVersion.Version20));
            probes.Add((port, "/rebench.orchestrator.v1.AttemptSession/%2E%2E/%2E%2E" + Target, HttpVersion.Version20));
            probes.Add((port, "/rebench.orchestrator.v1.AttemptSession/x/../.." + Target, HttpVersion.Version20));
            probes.Add((port, "/rebench.scoring.v1.Reports/x/../../rebench.scoring.v1.Scoring/GetReferenceSolution", HttpVersion.Version20));
            probes.Add((port, "/rebench.scoring.v1.Scoring/ListTasks/../GetReferenceSolution", HttpVersion.Version20));
            probes.Add((port, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", HttpVersion.Version20));
            probes.Add((port, Target, HttpVersion.Version11));
        }
        var refusals = new[] { "grpc 16", "grpc 7", "grpc 12" };
        var reached = new List<string>();
        foreach (var (port, path, version) in probes)
        {
            var answer = await SendAsync(port, path, version);
            if (!refusals.Contains(answer) && !answer.StartsWith("http 4", StringComparison.Ordinal) && !answer.StartsWith("refused", StringComparison.Ordinal))
                reached.Add($"{port} {path} HTTP/{version}: {answer}");
        }
        Assert.True(reached.Count == 0, string.Join("\n", reached));
    }

    /// <summary>
    /// The bus is a side door around the service tokens: RabbitMQ takes the default guest login from any process on the
    /// host, and scoring's AttemptCorrectedConsumer stores whatever AttemptCorrected it receives. A forged
    /// exclude_from_reports (no key, no gateway, no sealed correction behind it) removes an attempt from every score
    /// report, and a verified report accepts the result: corrections are not bound to the sealed record.
    /// </summary>
    [Fact]
    public async Task A_correction_forged_on_the_bus_does_not_change_a_verified_report()
    {
        var (campaign, attempt) = await RunCampaignAsync("attack16-forged-correction");
        var reports = new Scoring.V1.Reports.ReportsClient(Platform.PublicChannel());
        var verified = new ReportFilter { CampaignIds = { campaign }, Verify = true };
        var before = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = verified });
        Assert.Equal(1, Assert.Single(before.Rows).Attempts);

        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host("127.0.0.1", (ushort)TestEnv.RabbitPort, "/", h =>
        {
            h.Username("guest");
            h.Password("guest");
        }));
        await bus.StartAsync();
        try
        {
            await bus.Publish(new ReBench.Contracts.AttemptCorrected(Guid.NewGuid(), Guid.Parse(attempt.AttemptId), 99,
                "exclude_from_reports", "forged on the bus", "", "key-admin", "admin", DateTimeOffset.UtcNow));
        }
        finally
        {
            await bus.StopAsync();
        }

        // Wait until the forged correction shows in the unverified report (or give up: the attack failed).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var applied = false;
        while (DateTime.UtcNow < deadline && !applied)
        {
            var plain = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { CampaignIds = { campaign } } });
            applied = plain.CorrectionsApplied.Any(c => c.Reason == "forged on the bus");
            if (!applied) await Task.Delay(500);
        }
        var sealedCorrections = await Platform.Orchestrator().Audit.ListCorrectionsAsync(new ListCorrectionsRequest { AttemptId = attempt.AttemptId });
        Assert.Empty(sealedCorrections.Corrections); // the sealed record holds no correction of this attempt
        if (!applied) return; // the forged message was not taken
        ScoreAtKResponse after;
        try
        {
            after = await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = verified });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return;
        }
        Assert.Fail($"a correction forged on the bus changed the verified report: rows {after.Rows.Count} (before 1), corrections applied: " +
            string.Join("; ", after.CorrectionsApplied.Select(c => $"{c.Kind} by {c.Actor}: {c.Reason} ({c.Effect})")) +
            $"; verified={after.Inputs.Verified}; inputs: {after.Inputs.Statement}");
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
