using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace ReBench.Orchestrator.Tests;

/// <summary>The "Orchestrator" section is bound once and checked at start: a bad value stops the service, naming the key.</summary>
public sealed class OrchestratorOptionsTests
{
    [Theory]
    [InlineData("DestroyTries", "0")]
    [InlineData("MaxConcurrentAttempts", "-1")]
    [InlineData("Placement:CpuOvercommit", "0")]
    [InlineData("Schema", "orch; drop table x")]
    public void A_bad_value_stops_the_service_at_start_naming_the_key(string key, string value)
    {
        var e = ReBench.Testing.FailedStart.Of(() => Host((key, value)));

        Assert.NotNull(e);
        Assert.Contains(key.Split(':')[^1], e.Message);
    }

    [Fact]
    public void The_same_host_starts_with_good_values()
    {
        // Control: the failure above comes from the value, not from a host that cannot start at all.
        using var host = Host(("DestroyTries", "5"));

        _ = host.Server;

        Assert.Equal(5, host.Services.GetRequiredService<IOptions<OrchestratorOptions>>().Value.DestroyTries);
    }

    [Fact]
    public void Endpoints_are_the_allowed_ones_then_the_tasks_own_and_none_without_network()
    {
        var o = new OrchestratorOptions { AllowedEndpoints = ["a:1", "b:2"], TaskEndpoints = new() { ["t"] = ["c:3", "a:1"] } };

        Assert.Equal(["a:1", "b:2", "c:3"], o.EndpointsFor("t", network: true));
        Assert.Equal(["a:1", "b:2"], o.EndpointsFor("other", network: true));
        Assert.Empty(o.EndpointsFor("t", network: false));
    }

    private static OrchestratorHost Host((string Key, string Value) setting) => new("opts", ($"Orchestrator:{setting.Key}", setting.Value));
}
