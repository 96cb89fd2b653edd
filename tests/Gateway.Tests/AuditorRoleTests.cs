namespace ReBench.Gateway.Tests;

/// <summary>A gateway with an admin key (the fixture's, no role set) and an auditor key, in front of the fake backend.</summary>
public sealed class AuditorGatewayFixture : IAsyncLifetime
{
    public const string AuditorKey = "auditor-key-1";
    public GatewayFixture Gateway { get; } = new()
    {
        Overrides = new Dictionary<string, string?>
        {
            ["Gateway:ApiKeys:2"] = AuditorKey,
            ["Gateway:ApiKeys:2:Role"] = "auditor",
            ["Gateway:ApiKeys:2:Id"] = "alice",
        },
    };
    public Task InitializeAsync() => Gateway.InitializeAsync();
    public Task DisposeAsync() => Gateway.DisposeAsync();
}

public sealed class AuditorRoleTests(AuditorGatewayFixture fixture) : IClassFixture<AuditorGatewayFixture>
{
    private GatewayFixture Gateway => fixture.Gateway;
    private OrchestratorClients Orchestrator => new(Gateway.Public);
    private static Metadata Auditor => GatewayFixture.ApiKeyHeader(AuditorGatewayFixture.AuditorKey);

    [Fact]
    public async Task Auditor_may_read_attempts_and_events()
    {
        var id = Guid.NewGuid().ToString();
        var attempt = await Orchestrator.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id }, Auditor);
        Assert.Equal(id, attempt.AttemptId);
        using var call = Orchestrator.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = id }, Auditor);
        var count = 0;
        await foreach (var _ in call.ResponseStream.ReadAllAsync()) count++;
        Assert.Equal(3, count);
        var tasks = await new Scoring.V1.Scoring.ScoringClient(Gateway.Public).ListTasksAsync(new ListTasksRequest(), Auditor);
        Assert.NotNull(tasks);
    }

    [Theory]
    [InlineData("CancelAttempt")]
    [InlineData("CreateCampaign")]
    public async Task Auditor_may_not_change_anything(string method)
    {
        var id = Guid.NewGuid().ToString();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            if (method == "CancelAttempt") await Orchestrator.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = id, Reason = "x" }, Auditor);
            else await Orchestrator.Campaigns.CreateCampaignAsync(new CreateCampaignRequest { Name = id }, Auditor);
        });
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("role auditor", e.Status.Detail);
        Assert.Contains(method == "CancelAttempt" ? "Attempts/CancelAttempt" : "Campaigns/CreateCampaign", e.Status.Detail);
        Assert.False(Gateway.Backend.Calls.Saw(id));
    }

    [Theory]
    [InlineData("ImportHumanBaselines")]
    [InlineData("CorrectHumanBaseline")]
    public async Task Auditor_may_not_import_or_correct_human_baselines(string name)
    {
        // An empty message as raw bytes is a valid request of any type.
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "rebench.scoring.v1.Reports", name, bytes, bytes);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            Gateway.Public.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(Auditor), []).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains($"Reports/{name}", e.Status.Detail);
    }

    [Fact]
    public async Task Admin_key_without_role_still_changes()
    {
        // The fake backend does not implement CancelAttempt: UNIMPLEMENTED proves the call was forwarded, not refused.
        var e = await Assert.ThrowsAsync<RpcException>(() => Orchestrator.Attempts.CancelAttemptAsync(
            new CancelAttemptRequest { AttemptId = Guid.NewGuid().ToString(), Reason = "x" }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key)).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
    }

    [Fact]
    public async Task Gateway_sets_caller_headers_and_drops_forged_ones()
    {
        var forged = new Metadata
        {
            { "x-api-key", AuditorGatewayFixture.AuditorKey }, { "x-rebench-principal", "root" }, { "x-rebench-role", "admin" },
            // Even a token signed with the platform key is the client's, not the gateway's: dropped.
            { "x-rebench-token", TestPlatformKey.Token("root", "admin") },
        };
        var attempt = await Orchestrator.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = Guid.NewGuid().ToString() }, forged);
        Assert.Equal("alice|auditor", attempt.FailureReason);

        var admin = await Orchestrator.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = Guid.NewGuid().ToString() }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        Assert.Equal($"{ApiKeyEntry.DefaultId(GatewayFixture.Key)}|admin", admin.FailureReason);
    }

    [Theory]
    [InlineData("/rebench.orchestrator.v1.Campaigns/GetCampaign", true)]
    [InlineData("/rebench.orchestrator.v1.Campaigns/ListCampaigns", true)]
    [InlineData("/rebench.orchestrator.v1.Campaigns/CreateCampaign", false)]
    [InlineData("/rebench.orchestrator.v1.Attempts/GetAttempt", true)]
    [InlineData("/rebench.orchestrator.v1.Attempts/WatchAttempt", true)]
    [InlineData("/rebench.orchestrator.v1.Attempts/ReexecuteAttempt", true)]
    [InlineData("/rebench.orchestrator.v1.Attempts/CancelAttempt", false)]
    [InlineData("/rebench.orchestrator.v1.Attempts/SomethingNew", false)]
    [InlineData("/rebench.orchestrator.v1.Audit/VerifyAttempt", true)]
    [InlineData("/rebench.orchestrator.v1.Audit/ListAccessEvents", true)]
    [InlineData("/rebench.orchestrator.v1.Audit/ExportCampaign", true)]
    [InlineData("/rebench.orchestrator.v1.Audit/ListCorrections", true)]
    [InlineData("/rebench.orchestrator.v1.Audit/RecordCorrection", false)]
    [InlineData("/rebench.orchestrator.v1.Audit/GetBlob/extra", false)]
    [InlineData("/rebench.orchestrator.v1.HumanBaselines/HumanScoreLog", false)]
    [InlineData("/rebench.orchestrator.v1.HumanBaselines/OpenTerminal", false)]
    // The single service the API was before the split: gone, so refused whatever the method.
    [InlineData("/rebench.orchestrator.v1.Orchestrator/GetAttempt", false)]
    [InlineData("/rebench.scoring.v1.Scoring/ScoreSubmission", false)]
    [InlineData("/rebench.scoring.v1.Reports/ScoreAtK", true)]
    [InlineData("/rebench.scoring.v1.Reports/ImportHumanBaselines", false)]
    [InlineData("/rebench.scoring.v1.Reports/CorrectHumanBaseline", false)]
    [InlineData("/rebench.scoring.v1.Reports/ListHumanBaselines", true)]
    public void Allow_list_fails_closed(string path, bool allowed) => Assert.Equal(allowed, AuditorPolicy.Allows(path));

    [Fact]
    public void Unknown_role_fails_at_startup()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:ApiKeys:0"] = "k", ["Gateway:ApiKeys:0:Role"] = "superuser",
        }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => GatewayOptions.From(config));
        Assert.Contains("Gateway:ApiKeys:0:Role", e.Message);
    }
}
