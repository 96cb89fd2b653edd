using System.Diagnostics;
using Grpc.Reflection.V1Alpha;

namespace ReBench.Gateway.Tests;

public sealed class PublicListenerTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    private OrchestratorClients Orchestrator => new(gateway.Public);

    private static string NewId() => Guid.NewGuid().ToString();

    [Fact]
    public async Task Unary_call_passes_through_with_x_api_key_header()
    {
        var id = NewId();
        var campaign = await Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = id }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        Assert.Equal(id, campaign.CampaignId);
        Assert.True(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Unary_call_passes_through_with_bearer_token_and_any_configured_key()
    {
        var id = NewId();
        var campaign = await Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = id },
            new Metadata { { "authorization", "Bearer " + GatewayFixture.OtherKey } });
        Assert.Equal(id, campaign.CampaignId);
    }

    [Fact]
    public async Task Server_streaming_passes_through()
    {
        var id = NewId();
        using var call = Orchestrator.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = id }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        var events = new List<AttemptEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync()) events.Add(e);
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Version));
        Assert.All(events, e => Assert.Equal(id, e.AttemptId));
    }

    [Fact]
    public async Task Trace_context_reaches_the_backend()
    {
        // The client's HttpClient injects traceparent from the current activity.
        using var client = new Activity("gateway-test-client").SetIdFormat(ActivityIdFormat.W3C).Start();
        var campaign = await Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = NewId() }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        Assert.StartsWith($"00-{client.TraceId}-", campaign.Name);
    }

    [Fact]
    public async Task Missing_key_is_unauthenticated_and_not_forwarded()
    {
        var id = NewId();
        var e = await Assert.ThrowsAsync<RpcException>(() => Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = id }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal("missing API key: send it in the x-api-key header", e.Status.Detail);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Theory]
    [InlineData("x-api-key", "wrong-key")]
    [InlineData("x-api-key", GatewayFixture.Key + "x")]
    [InlineData("authorization", "Bearer wrong-key")]
    public async Task Wrong_key_is_unauthenticated_and_not_forwarded(string header, string value)
    {
        var id = NewId();
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = id }, new Metadata { { header, value } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal("invalid API key", e.Status.Detail);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Streaming_call_without_key_is_unauthenticated()
    {
        var id = NewId();
        using var call = Orchestrator.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = id });
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task AttemptSession_is_refused_even_with_a_valid_key_and_not_forwarded()
    {
        var id = NewId();
        var session = new AttemptSession.AttemptSessionClient(gateway.Public);
        var e = await Assert.ThrowsAsync<RpcException>(() => session.ActAsync(
            new ActRequest { AttemptId = id, StepId = "s1", Run = new RunCommand { Command = "echo hi" } },
            GatewayFixture.ApiKeyHeader(GatewayFixture.Key)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("/rebench.orchestrator.v1.AttemptSession/Act is not exposed publicly", e.Status.Detail);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Every_public_orchestrator_service_is_forwarded_but_the_former_single_service_is_not()
    {
        var key = GatewayFixture.ApiKeyHeader(GatewayFixture.Key);
        // The fake backend implements neither method: UNIMPLEMENTED from it proves the gateway forwarded the call.
        var audit = await Assert.ThrowsAsync<RpcException>(() => Orchestrator.Audit.GetPublicKeyAsync(new GetPublicKeyRequest(), key).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, audit.StatusCode);
        var human = await Assert.ThrowsAsync<RpcException>(() =>
            Orchestrator.HumanBaselines.HumanScoreLogAsync(new HumanStepRequest { AttemptId = NewId() }, key).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, human.StatusCode);
        Assert.Equal(NewId().Length, (await Orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = NewId() }, key)).CampaignId.Length);

        // The path the API had before it was split into services: no route, so refused at the gateway (control: same key, same listener).
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var former = new Method<byte[], byte[]>(MethodType.Unary, "rebench.orchestrator.v1.Orchestrator", "GetCampaign", bytes, bytes);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            gateway.Public.CreateCallInvoker().AsyncUnaryCall(former, null, new CallOptions(key), []).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("/rebench.orchestrator.v1.Orchestrator/GetCampaign is not exposed publicly", e.Status.Detail);
    }

    [Fact]
    public async Task Catalog_methods_of_scoring_pass_but_its_internal_methods_are_refused()
    {
        var scoring = new Scoring.V1.Scoring.ScoringClient(gateway.Public);
        var tasks = await scoring.ListTasksAsync(new ListTasksRequest(), GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        Assert.Equal("task-a", Assert.Single(tasks.Tasks).TaskId);

        var id = NewId();
        var e = await Assert.ThrowsAsync<RpcException>(() => scoring.ScoreSubmissionAsync(
            new ScoreSubmissionRequest { AttemptId = id }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("not exposed publicly", e.Status.Detail);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        var health = new Health.HealthClient(gateway.Public);
        var reply = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Reflection_needs_a_key_and_lists_the_routed_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(gateway.Public);

        using (var anonymous = reflection.ServerReflectionInfo())
        {
            // No write: the gateway answers from the headers alone, which may beat a write and fail it.
            var e = await Assert.ThrowsAsync<RpcException>(() => anonymous.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        }

        using var call = reflection.ServerReflectionInfo(GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext());
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("grpc.health.v1.Health", names);
        foreach (var routed in new[] { "rebench.orchestrator.v1.Campaigns", "rebench.orchestrator.v1.Attempts", "rebench.orchestrator.v1.Audit", "rebench.scoring.v1.Reports" })
            Assert.Contains(routed, names);
        // The internal listener's AttemptSession is not described on the public one.
        Assert.DoesNotContain("rebench.orchestrator.v1.AttemptSession", names);

        // A tool can fetch a service's file descriptor to build calls (grpcurl describe).
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "rebench.orchestrator.v1.Attempts" });
        Assert.True(await call.ResponseStream.MoveNext());
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(b => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(b)).ToList();
        Assert.Contains(files, f => f.Service.Any(s => s.Name == "Attempts" && s.Method.Any(m => m.Name == "ListAttempts")));
        await call.RequestStream.CompleteAsync();
    }
}
