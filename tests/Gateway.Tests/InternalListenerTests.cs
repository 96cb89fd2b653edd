namespace ReBench.Gateway.Tests;

public sealed class InternalListenerTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task AttemptSession_works_without_a_key()
    {
        var id = Guid.NewGuid().ToString();
        var session = new AttemptSession.AttemptSessionClient(gateway.Internal);
        var result = await session.ActAsync(new ActRequest { AttemptId = id, StepId = "s1", Run = new RunCommand { Command = "echo hi" } });
        Assert.Equal("s1", result.StepId);
        Assert.Equal("echo hi", result.Stdout);
        Assert.True(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Orchestrator_is_refused_even_with_a_key_and_not_forwarded()
    {
        var id = Guid.NewGuid().ToString();
        var orchestrator = new OrchestratorClients(gateway.Internal);
        var e = await Assert.ThrowsAsync<RpcException>(() => orchestrator.Campaigns.GetCampaignAsync(
            new GetCampaignRequest { CampaignId = id }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("only the AttemptSession API", e.Status.Detail);
        Assert.False(gateway.Backend.Calls.Saw(id));
    }

    [Fact]
    public async Task Scoring_catalog_is_refused()
    {
        var scoring = new Scoring.V1.Scoring.ScoringClient(gateway.Internal);
        var e = await Assert.ThrowsAsync<RpcException>(() => scoring.ListTasksAsync(new ListTasksRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task Health_is_served()
    {
        var reply = await new Health.HealthClient(gateway.Internal).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }
}
