namespace ReBench.Gateway.Tests;

public sealed class RateLimitTests
{
    [Fact]
    public async Task Each_key_has_its_own_token_bucket()
    {
        var gateway = new GatewayFixture
        {
            Overrides = new Dictionary<string, string?>
            {
                ["Gateway:RateLimit:PermitsPerSecond"] = "1",
                ["Gateway:RateLimit:Burst"] = "3",
            },
        };
        await gateway.InitializeAsync();
        try
        {
            var orchestrator = new OrchestratorClients(gateway.Public);
            var statuses = new List<StatusCode>();
            // A full bucket of 3 plus at most a few refills while these run: 8 quick calls must exhaust it.
            for (var i = 0; i < 8; i++)
            {
                try
                {
                    await orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = $"c{i}" }, GatewayFixture.ApiKeyHeader(GatewayFixture.Key));
                    statuses.Add(StatusCode.OK);
                }
                catch (RpcException e)
                {
                    statuses.Add(e.StatusCode);
                    if (e.StatusCode == StatusCode.ResourceExhausted) Assert.StartsWith("rate limit exceeded", e.Status.Detail);
                }
            }
            Assert.Equal([StatusCode.OK, StatusCode.OK, StatusCode.OK], statuses.Take(3));
            Assert.Contains(StatusCode.ResourceExhausted, statuses);
            Assert.All(statuses, s => Assert.True(s is StatusCode.OK or StatusCode.ResourceExhausted, $"unexpected {s}"));

            // Another key's bucket is untouched.
            var other = await orchestrator.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = "other" }, GatewayFixture.ApiKeyHeader(GatewayFixture.OtherKey));
            Assert.Equal("other", other.CampaignId);
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }
}
