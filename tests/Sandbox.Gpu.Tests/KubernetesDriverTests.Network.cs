namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>The allowed endpoints as NetworkPolicy egress rules, and what this driver refuses: host-name endpoints, endpoints without the network permission, interactive exec.</summary>
public sealed partial class KubernetesDriverTests
{
    [Fact]
    public async Task Allowed_endpoints_narrow_egress_to_those_addresses_and_ports()
    {
        await Driver().CreateAsync(new EnvironmentSpec("llm", "t", null, null, null, true, new Dictionary<string, string>(),
            ["10.1.2.3:443", "[fd00::7]:8080"]), default);
        var egress = _api.Object("networkpolicies", "rebench-test", PodSpecBuilder.PodName("llm"))!["spec"]!["egress"]!.AsArray();
        Assert.Equal(2, egress.Count);
        Assert.Equal("10.1.2.3/32", (string?)egress[0]!["to"]![0]!["ipBlock"]!["cidr"]);
        Assert.Equal(443, (int)egress[0]!["ports"]![0]!["port"]!);
        Assert.Equal("TCP", (string?)egress[0]!["ports"]![0]!["protocol"]);
        Assert.Equal("fd00::7/128", (string?)egress[1]!["to"]![0]!["ipBlock"]!["cidr"]);
        Assert.Equal(8080, (int)egress[1]!["ports"]![0]!["port"]!);
    }

    /// <summary>The pseudo-terminal exec is the local driver's; this driver says so instead of running without a tty.</summary>
    [Fact]
    public async Task Interactive_exec_is_refused_with_failed_precondition()
    {
        IEnvironmentDriver driver = Driver();
        var e = await Assert.ThrowsAsync<SandboxException>(async () =>
        {
            await foreach (var _ in driver.ExecInteractiveAsync(new ExecSpec("x", "", null, null, new Dictionary<string, string>(), 0, false, default),
                TerminalSize.Default, System.Threading.Channels.Channel.CreateUnbounded<TerminalInput>().Reader, default)) { }
        });
        Assert.Equal(SandboxError.FailedPrecondition, e.Error);
        Assert.Contains("kubernetes", e.Message);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task Endpoints_by_host_name_or_without_the_network_permission_are_refused_before_anything_is_created()
    {
        var named = await Assert.ThrowsAsync<SandboxException>(() => Driver().CreateAsync(new EnvironmentSpec("n", "t", null, null, null, true,
            new Dictionary<string, string>(), ["api.example.test:443"]), default));
        Assert.Equal(SandboxError.FailedPrecondition, named.Error);
        Assert.Contains("IP addresses only", named.Message);
        var denied = await Assert.ThrowsAsync<SandboxException>(() => Driver().CreateAsync(new EnvironmentSpec("n", "t", null, null, null, false,
            new Dictionary<string, string>(), ["10.1.2.3:443"]), default));
        Assert.Equal(SandboxError.InvalidArgument, denied.Error);
        Assert.Contains("network permission", denied.Message);
        Assert.Empty(_api.Requests);
    }
}
