using ReBench.Sandbox.Environments;
using ReBench.Sandbox.Local.Isolation;

namespace ReBench.Sandbox.Tests;

/// <summary>How allowed endpoints are parsed and where each is served inside the environment.</summary>
public sealed class EndpointPlanTests
{
    [Fact]
    public void Entries_are_normalized_and_deduplicated()
    {
        var parsed = AllowedEndpoint.ParseAll([" API.OpenAI.com:443 ", "api.openai.com:443", "[0:0::1]:8080", "10.1.2.3:8000"]);
        Assert.Equal(["api.openai.com:443", "[::1]:8080", "10.1.2.3:8000"], parsed.Select(e => e.ToString()));
        Assert.Equal(IPAddress.IPv6Loopback, parsed[1].Address);
        var e = Assert.Throws<SandboxException>(() => AllowedEndpoint.ParseAll(Enumerable.Range(1, 33).Select(i => $"h{i}.example:1")));
        Assert.Contains("at most 32", e.Message);
        Assert.Throws<SandboxException>(() => AllowedEndpoint.Parse("1.2.3:80")); // all digits and dots, yet no IPv4 address
        Assert.Throws<SandboxException>(() => AllowedEndpoint.Parse("host\0:80"));
    }

    [Fact]
    public void Each_endpoint_gets_an_address_the_agent_uses_unchanged()
    {
        var bindings = EndpointPlan.Bind(AllowedEndpoint.ParseAll(
            ["127.0.0.1:8080", "10.1.2.3:8000", "localhost:9000", "[::1]:7000", "a.example:443", "b.example:443", "a.example:80", "c.example:8080"]));
        string Where(string target) => bindings.Single(b => b.Target.ToString() == target) is var b ? $"{b.Listen}|{b.AddToLoopback}|{b.HostsName}" : "";
        Assert.Equal("127.0.0.1|False|", Where("127.0.0.1:8080"));
        Assert.Equal("10.1.2.3|True|", Where("10.1.2.3:8000")); // added to the namespace's lo
        Assert.Equal("127.0.0.1|False|", Where("localhost:9000"));
        Assert.Equal("::1|False|", Where("[::1]:7000"));
        Assert.Equal("127.0.0.1|False|a.example", Where("a.example:443"));
        Assert.Equal("127.0.0.1|False|a.example", Where("a.example:80")); // one name, one address, both ports
        Assert.Equal("127.0.0.2|False|b.example", Where("b.example:443")); // 443 is taken on 127.0.0.1
        Assert.Equal("127.0.0.2|False|c.example", Where("c.example:8080")); // 8080 is the IP endpoint's on 127.0.0.1
        var hosts = EndpointPlan.HostsFile(bindings);
        Assert.Equal("127.0.0.1\tlocalhost rebench\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\ta.example\n127.0.0.2\tb.example\n127.0.0.2\tc.example\n", hosts);
    }
}
