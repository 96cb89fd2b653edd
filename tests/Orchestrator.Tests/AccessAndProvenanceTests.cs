using ReBench.Orchestrator.Access;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Access events (reads of transcripts recorded in a separate stream, never the sealed attempt stream) and the
/// provenance attempt_started records, through the orchestrator's real gRPC endpoint on the real PostgreSQL.
/// </summary>
public sealed class AccessAndProvenanceTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private static readonly Google.Protobuf.Reflection.FileDescriptor[] Protos =
        [V1.OrchestratorReflection.Descriptor, V1.AttemptSessionReflection.Descriptor];

    private Task<TRes> UnaryAsync<TReq, TRes>(string name, TReq request, MessageParser<TRes> parser, Metadata? headers = null)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        MethodByName.UnaryAsync(Channel, name, request, parser, headers, Protos);

    private async Task<List<TRes>> StreamAsync<TReq, TRes>(string name, TReq request, MessageParser<TRes> parser, Metadata? headers = null)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes>
    {
        using var call = Channel.CreateCallInvoker().AsyncServerStreamingCall(MethodByName.Of<TReq, TRes>(MethodType.ServerStreaming, name, parser, Protos), null, new CallOptions(headers), request);
        var all = new List<TRes>();
        await foreach (var r in call.ResponseStream.ReadAllAsync()) all.Add(r);
        return all;
    }

    private async Task<Guid> SealedAttemptAsync(Dictionary<string, string> settings, Sandbox.V1.Environment env)
    {
        var id = await ScheduledAttemptAsync("access", "modular", settings, TimeSpan.FromMinutes(30));
        var store = Get<AttemptStore>();
        var info = new AttemptDecider.StartInfo("env", "local+namespaces", "node-1", "1", "bundle", "scorer", 2.5, 1e-5, "min", true, "dev");
        await store.AppendAsync(id, s => AttemptProvenance.Enrich(AttemptDecider.Start(s, info, "test", T0), s, env, "dev"), CancellationToken.None);
        var final = await store.AppendAsync(id, s => AttemptDecider.Fail(s, "test failure", T0), CancellationToken.None);
        Assert.Equal(4, final.Version); // scheduled, started, failed, sealed
        return id;
    }

    /// <summary>A call as the gateway makes it: a token naming the key's principal and role.</summary>
    private static Metadata Caller(string principal, string role) => TestPlatformKey.As(principal, role);

    [Fact]
    public async Task Transcript_reads_are_recorded_outside_the_sealed_stream()
    {
        var id = await SealedAttemptAsync(new() { ["provider"] = "fake" }, new Sandbox.V1.Environment());
        var events = await StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = id.ToString() }, AttemptEvent.Parser, Caller("alice", "auditor"));
        Assert.Equal(4, events.Count);
        await StreamAsync("ExportAttempt", new ExportAttemptRequest { AttemptId = id.ToString() }, V1.StoredEvent.Parser, Caller("bob", "admin"));
        await StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = id.ToString(), FromVersion = 3 }, AttemptEvent.Parser);
        // A read of the metadata only is not a transcript read.
        await UnaryAsync("GetAttempt", new GetAttemptRequest { AttemptId = id.ToString() }, Attempt.Parser, Caller("carol", "auditor"));

        var access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = id.ToString() }, ListAccessEventsResponse.Parser);
        Assert.Equal(
            [("alice", "auditor", "ReadAttemptEvents", ""), ("bob", "admin", "ExportAttempt", ""), (TestPlatformKey.Principal, TestPlatformKey.Role, "ReadAttemptEvents", "from_version=3")],
            access.Events.Select(e => (e.Principal, e.Role, e.Method, e.Detail)));
        Assert.All(access.Events, e => Assert.Equal(id.ToString(), e.AttemptId));
        Assert.All(access.Events, e => Assert.InRange(e.At.ToDateTimeOffset(), T0.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1)));

        // The sealed attempt stream is untouched and still verifies.
        var report = await Get<AttemptAuditor>().VerifyAsync(id, CancellationToken.None);
        Assert.True(report.Ok, report.Problem);
        Assert.Equal(4, report.EventsChecked);
    }

    [Fact]
    public async Task The_access_log_is_chained_so_an_edited_or_removed_read_is_found()
    {
        var id = await SealedAttemptAsync(new() { ["provider"] = "fake" }, new Sandbox.V1.Environment());
        // Reads at once race for the stream's head: every one is kept, in one chain.
        await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = id.ToString() }, AttemptEvent.Parser, Caller($"reader-{i}", "auditor"))));
        var access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = id.ToString() }, ListAccessEventsResponse.Parser);
        Assert.True(access.ChainOk, access.Problem);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"reader-{i}").Order(), access.Events.Select(e => e.Principal).Order());

        // Someone with database access hides who read the transcript: found, and located.
        var sql = new AuditFixtures(Host);
        Assert.Equal(1, await sql.SqlAsync("update mt_events set data = jsonb_set(data, '{Principal}', '\"nobody\"') where stream_id = $1 and version = 3",
            AccessLog.StreamId(id)));
        access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = id.ToString() }, ListAccessEventsResponse.Parser);
        Assert.False(access.ChainOk);
        Assert.Contains("event 3", access.Problem);
        Assert.Equal(1, await sql.SqlAsync("delete from mt_events where stream_id = $1 and version = 3", AccessLog.StreamId(id)));
        access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = id.ToString() }, ListAccessEventsResponse.Parser);
        Assert.False(access.ChainOk);
        Assert.Contains("event 3 is missing", access.Problem);

        // The newest read removed: found by the stream's own count; later reads are still served and recorded.
        var other = await SealedAttemptAsync(new() { ["provider"] = "fake" }, new Sandbox.V1.Environment());
        for (var i = 1; i <= 3; i++)
            await StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = other.ToString() }, AttemptEvent.Parser, Caller($"r{i}", "auditor"));
        Assert.Equal(1, await sql.SqlAsync("delete from mt_events where stream_id = $1 and version = 3", AccessLog.StreamId(other)));
        access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = other.ToString() }, ListAccessEventsResponse.Parser);
        Assert.False(access.ChainOk);
        Assert.Contains("events from number 3 on were removed", access.Problem);
        Assert.Equal(4, (await StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = other.ToString() }, AttemptEvent.Parser,
            Caller("r4", "auditor"))).Count);
        access = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = other.ToString() }, ListAccessEventsResponse.Parser);
        Assert.Equal(["r1", "r2", "r4"], access.Events.Select(e => e.Principal));
        Assert.False(access.ChainOk);
        Assert.Contains("event 3 is missing", access.Problem);
    }

    [Fact]
    public async Task Score_logs_and_campaign_reads_are_recorded_on_every_attempt_they_read()
    {
        var (campaign, attempts) = await new AuditFixtures(Host).CampaignAsync(2);
        var (first, second) = (attempts[0].ToString(), attempts[1].ToString());
        // A session read counts once its credential has passed: the intruder's call is only the gate's refusal event.
        await Answered(() => UnaryAsync("ScoreLog", new ScoreLogRequest { AttemptId = first }, ScoreLogResponse.Parser, Caller("agent-session", "session")));
        var session = Caller("agent-session", "session");
        session.Add(SessionCredentials.Header, await Get<SessionCredentials>().IssueAsync(attempts[0], default));
        await UnaryAsync("ScoreLog", new ScoreLogRequest { AttemptId = first }, ScoreLogResponse.Parser, session);
        await Answered(() => UnaryAsync("HumanScoreLog", new HumanStepRequest { AttemptId = first }, HumanScoreLogResponse.Parser, Caller("human", "admin")));
        await Answered(() => UnaryAsync("VerifyCampaign", new VerifyCampaignRequest { CampaignId = campaign.ToString() }, VerifyCampaignResponse.Parser, Caller("aud", "auditor")));
        await StreamAsync("ExportCampaign", new ExportCampaignRequest { CampaignId = campaign.ToString() }, V1.StoredEvent.Parser, Caller("aud", "auditor"));

        var firstLog = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = first }, ListAccessEventsResponse.Parser);
        Assert.True(firstLog.ChainOk, firstLog.Problem);
        Assert.Equal(
            [("agent-session", "session", "AttemptSession/ScoreLog", "refused: no session credential"), ("agent-session", "session", "ScoreLog", ""),
             ("human", "admin", "HumanScoreLog", ""),
             ("aud", "auditor", "VerifyCampaign", $"campaign={campaign}"), ("aud", "auditor", "ExportCampaign", $"campaign={campaign}")],
            firstLog.Events.Select(e => (e.Principal, e.Role, e.Method, e.Detail)));
        var secondLog = await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = second }, ListAccessEventsResponse.Parser);
        Assert.Equal(["VerifyCampaign", "ExportCampaign"], secondLog.Events.Select(e => e.Method));

        // An unknown campaign and an unreferenced digest read nothing: the method's own NOT_FOUND, no event anywhere.
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            StreamAsync("ExportCampaign", new ExportCampaignRequest { CampaignId = Guid.NewGuid().ToString() }, V1.StoredEvent.Parser));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var blob = await Assert.ThrowsAsync<RpcException>(() => UnaryAsync("GetBlob", new GetBlobRequest { Sha256 = new string('a', 64) }, V1.Blob.Parser));
        Assert.Equal(StatusCode.NotFound, blob.StatusCode);
        var bad = await Assert.ThrowsAsync<RpcException>(() => UnaryAsync("GetBlob", new GetBlobRequest { Sha256 = new string('x', 5000) }, V1.Blob.Parser));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.True(bad.Status.Detail.Length < 200, bad.Status.Detail); // quotes little of the input
        Assert.Equal(5, (await UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = first }, ListAccessEventsResponse.Parser)).Events.Count);
    }

    /// <summary>Runs a call whose answer does not matter here (an error status included).</summary>
    private static async Task Answered<T>(Func<Task<T>> call)
    {
        try { await call(); }
        catch (RpcException e) { Assert.NotEqual(StatusCode.Internal, e.StatusCode); }
    }

    [Fact]
    public async Task Unknown_attempts_are_not_found_and_leave_no_access_stream()
    {
        var unknown = Guid.NewGuid();
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            StreamAsync("ReadAttemptEvents", new ReadAttemptEventsRequest { AttemptId = unknown.ToString() }, AttemptEvent.Parser));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        var list = await Assert.ThrowsAsync<RpcException>(() =>
            UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = unknown.ToString() }, ListAccessEventsResponse.Parser));
        Assert.Equal(StatusCode.NotFound, list.StatusCode);
        Assert.Contains(unknown.ToString(), list.Status.Detail);
        var bad = await Assert.ThrowsAsync<RpcException>(() =>
            UnaryAsync("ListAccessEvents", new ListAccessEventsRequest { AttemptId = "nope" }, ListAccessEventsResponse.Parser));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }

    [Fact]
    public void Every_method_is_decided_to_read_an_attempts_content_or_not()
    {
        // A method added later must be put on one side or the other (AccessTargets), or this fails: an unrecorded
        // read is never the default.
        string[] notContentReads =
        [
            "Campaigns/CreateCampaign", "Campaigns/GetCampaign", "Campaigns/ListCampaigns",
            "Attempts/GetAttempt", "Attempts/ListAttempts", "Attempts/CancelAttempt",
            "Audit/GetPublicKey", "Audit/ListAccessEvents", "Audit/RecordCorrection", "Audit/ListCorrections", "Audit/ExportCorrections",
            "HumanBaselines/OpenTerminal", "HumanBaselines/HumanScore", "HumanBaselines/HumanSubmit",
            "HumanBaselines/HumanPauseClock", "HumanBaselines/HumanResumeClock",
            "AttemptSession/Act", "AttemptSession/Score", "AttemptSession/Submit", "AttemptSession/RecordModelCall",
            "AttemptSession/PauseClock", "AttemptSession/ResumeClock", "AttemptSession/RecordAgentNote", "AttemptSession/ReserveBudget",
        ];
        var all = new[] { V1.OrchestratorReflection.Descriptor, V1.AttemptSessionReflection.Descriptor }
            .SelectMany(f => f.Services).SelectMany(s => s.Methods).Select(m => $"/{m.Service.FullName}/{m.Name}").ToList();
        var recorded = AccessTargets.Methods.ToHashSet();
        Assert.Subset(all.ToHashSet(), recorded);
        var undecided = all.Where(m => !recorded.Contains(m) && !notContentReads.Any(n => m.EndsWith("." + n, StringComparison.Ordinal))).ToList();
        Assert.True(undecided.Count == 0, $"decide whether these read an attempt's content: {string.Join(", ", undecided)}");
        Assert.Contains("/rebench.orchestrator.v1.Audit/GetBlob", recorded); // control: the paths are the ones gRPC routes
    }

    [Fact]
    public void Access_stream_id_is_deterministic_and_distinct()
    {
        var id = Guid.NewGuid();
        Assert.Equal(AccessLog.StreamId(id), AccessLog.StreamId(id));
        Assert.NotEqual(id, AccessLog.StreamId(id));
        Assert.NotEqual(AccessLog.StreamId(id), AccessLog.StreamId(Guid.NewGuid()));
    }

    [Fact]
    public async Task Provenance_is_recorded_without_secrets_and_served_by_GetAttempt()
    {
        var settings = new Dictionary<string, string>
        {
            ["provider"] = "openai", ["model"] = "gpt-x", ["temperature"] = "0.2", ["max_tokens"] = "512",
            ["api_key"] = "sk-secret", ["script"] = "{\"run\":\"true\"}", ["token_budget"] = "100000",
        };
        var env = new Sandbox.V1.Environment { GpuModel = "H100", GpuCount = 2, GpuDriverVersion = "550.54.15" };
        var id = await SealedAttemptAsync(settings, env);

        var p = (await UnaryAsync("GetAttempt", new GetAttemptRequest { AttemptId = id.ToString() }, Attempt.Parser)).Provenance;
        Assert.NotNull(p);
        Assert.Equal(("t", "cpu", "bundle", "scorer", "modular", "dev"), (p.TaskId, p.Variant, p.BundleDigest, p.ScorerDigest, p.Agent, p.AgentVersion));
        Assert.Equal(("openai/gpt-x", "dev", "local+namespaces", "node-1"), (p.Model, p.PlatformVersion, p.SandboxDriver, p.Node));
        Assert.Equal(("H100", 2, "550.54.15"), (p.GpuModel, p.GpuCount, p.GpuDriverVersion));
        Assert.Equal((1800.0, 100000L, 0.0), (p.TimeBudgetSeconds, p.TokenBudget, p.CostBudgetUsd));
        Assert.Equal("0.2", p.GenerationSettings["temperature"]);
        Assert.Equal("512", p.GenerationSettings["max_tokens"]);
        Assert.False(p.GenerationSettings.ContainsKey("api_key"));
        Assert.DoesNotContain(p.GenerationSettings.Values, v => v.Contains("sk-secret"));
        Assert.Matches("^[0-9a-f]{64}$", p.GenerationSettings["script_sha256"]);
        Assert.False(p.GenerationSettings.ContainsKey("script"));
    }

    [Fact]
    public async Task Without_gpus_provenance_says_none()
    {
        var id = await SealedAttemptAsync(new() { ["provider"] = "fake" }, new Sandbox.V1.Environment());
        var p = (await UnaryAsync("GetAttempt", new GetAttemptRequest { AttemptId = id.ToString() }, Attempt.Parser)).Provenance;
        Assert.Equal(("none", 0, "none", ""), (p.GpuModel, p.GpuCount, p.GpuDriverVersion, p.Model));
    }

    [Fact]
    public void The_platform_version_names_the_git_commit_of_the_build()
    {
        // The SDK's Source Link puts the commit into the informational version when it builds from a git checkout;
        // a build from a source archive has no commit to record (and this check has nothing to look at).
        if (!Path.Exists(Path.Combine(ReBench.Testing.TestEnv.RepoRoot, ".git"))) return;
        Assert.Matches(@"\+[0-9a-f]{40}$", PlatformInfo.Version);
    }

    [Fact]
    public void An_attempt_started_stored_before_provenance_fields_still_loads()
    {
        // The body as the foundation stored it: none of the fields added since.
        const string old = """{"AttemptId":"6f1c2e0a-0000-0000-0000-000000000001","EnvironmentId":"e","SandboxDriver":"local","Node":"n","TaskVersion":"1","BundleDigest":"b","ScorerDigest":"s","StartScore":1,"ReferenceScore":0,"Aggregation":"min","ScoreVisible":true,"Deadline":"2026-01-01T00:00:00+00:00","PlatformVersion":"p","Actor":"o","At":"2026-01-01T00:00:00+00:00"}""";
        var serializer = Get<Marten.IDocumentStore>().Options.Serializer();
        var started = serializer.FromJson<AttemptStarted>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(old)));
        Assert.Equal("b", started.BundleDigest);
        Assert.Null(started.GpuModel);
        Assert.Null(started.GenerationSettings);
    }
}
