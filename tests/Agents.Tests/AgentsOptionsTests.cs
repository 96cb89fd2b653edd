using Microsoft.Extensions.Options;
using AgentsEntryPoint = ReBench.Agents.AgentsEntryPoint;

namespace ReBench.Agents.Tests;

/// <summary>The "Agents" section is bound once and checked at start: a bad value stops the service, naming the key.</summary>
public sealed class AgentsOptionsTests
{
    [Theory]
    [InlineData("RetryInitialDelay", "00:00:00")]
    [InlineData("RetryMaxDelay", "00:00:00.1")] // below the initial delay's 200 ms default
    [InlineData("RetryGiveUpAfter", "-00:00:01")]
    [InlineData("StopWait", "-00:00:01")]
    [InlineData("ProviderConnectTimeout", "-00:00:01")]
    public void A_bad_value_stops_the_service_at_start_naming_the_key(string key, string value)
    {
        var e = ReBench.Testing.FailedStart.Of(() => new Host((key, value)));

        Assert.NotNull(e);
        Assert.Contains($"Agents:{key}", e.Message);
    }

    [Theory]
    [InlineData("RetryInitialDelay", "00:00:00.05")]
    [InlineData("RetryMaxDelay", "00:00:00.2")] // equal to the initial delay is enough
    [InlineData("ProviderConnectTimeout", "00:00:00")] // zero turns the reachability check off
    public void The_same_host_starts_with_good_values(string key, string value)
    {
        // Control: the failures above come from the values, not from a host that cannot start at all.
        using var host = new Host((key, value));

        _ = host.Server;

        var options = host.Services.GetRequiredService<IOptions<AgentsOptions>>().Value;
        Assert.Equal(TimeSpan.Parse(value), typeof(AgentsOptions).GetProperty(key)!.GetValue(options));
    }

    private sealed class Host((string Key, string Value) setting) : WebApplicationFactory<AgentsEntryPoint>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting(TestPlatformKey.Setting.Key, TestPlatformKey.Key);
            // Never called: the host only starts, no run is made.
            builder.UseSetting("Services:Session", "http://127.0.0.1:9").UseSetting("Services:Scoring", "http://127.0.0.1:9");
            builder.UseSetting($"Agents:{setting.Key}", setting.Value);
        }
    }
}
