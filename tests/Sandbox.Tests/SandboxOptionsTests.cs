using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SandboxEntryPoint = ReBench.Sandbox.SandboxEntryPoint;

namespace ReBench.Sandbox.Tests;

/// <summary>The "Sandbox" section is bound once and checked at start: a bad value stops the service, naming the key.</summary>
public sealed class SandboxOptionsTests
{
    [Theory]
    [InlineData("PidsMax", "0")]
    [InlineData("ScoringCpuWeight", "10001")]
    [InlineData("DefaultTimeoutSeconds", "-5")]
    [InlineData("MaxOutputBytesLimit", "0")]
    [InlineData("Isolation", "sometimes")]
    [InlineData("Cgroups", "v3")]
    [InlineData("Root", "relative/sandbox")]
    public void A_bad_value_stops_the_service_at_start_naming_the_key(string key, string value)
    {
        var e = ReBench.Testing.FailedStart.Of(() => new Host((key, value)));

        Assert.NotNull(e);
        Assert.Contains(key, e.Message);
    }

    [Theory]
    [InlineData("PidsMax", "64")]
    [InlineData("ScoringCpuWeight", "0")]
    [InlineData("Isolation", " None ")] // read as the isolation selector reads it: trimmed, any case
    [InlineData("Cgroups", "AUTO")]
    public void The_same_host_starts_with_good_values(string key, string value)
    {
        // Control: the failures above come from the values, not from a host that cannot start at all.
        using var host = new Host((key, value));

        _ = host.Server;

        var options = host.Services.GetRequiredService<IOptions<SandboxOptions>>().Value;
        Assert.Equal(value, typeof(SandboxOptions).GetProperty(key)!.GetValue(options)!.ToString());
    }

    private sealed class Host((string Key, string Value) setting) : WebApplicationFactory<SandboxEntryPoint>
    {
        private readonly string _root = Directory.CreateTempSubdirectory("rebench-sandbox-opts-").FullName;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting(TestPlatformKey.Setting.Key, TestPlatformKey.Key);
            builder.UseSetting("Sandbox:Root", _root);
            if (setting.Key != "Isolation") builder.UseSetting("Sandbox:Isolation", "none");
            builder.UseSetting($"Sandbox:{setting.Key}", setting.Value);
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        }
    }
}
