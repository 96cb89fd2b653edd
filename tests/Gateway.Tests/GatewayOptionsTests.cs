using Microsoft.AspNetCore.Http;

namespace ReBench.Gateway.Tests;

public sealed class GatewayOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Defaults_match_the_platform_ports()
    {
        var options = GatewayOptions.From(Config(("Gateway:ApiKeys:0", "k")));
        Assert.Equal(5105, options.InternalPort);
        Assert.Equal(new Uri("http://127.0.0.1:5101"), options.Orchestrator);
        Assert.Equal(new Uri("http://127.0.0.1:5103"), options.Scoring);
        Assert.Equal(["k"], options.ApiKeys);
        Assert.Equal(100, options.RateLimitPermitsPerSecond);
        Assert.Equal(200, options.RateLimitBurst);
    }

    [Fact]
    public void A_key_entry_prints_its_id_and_role_never_the_key()
    {
        var options = GatewayOptions.From(Config(("Gateway:ApiKeys:0", "the-secret-key-value"), ("Gateway:ApiKeys:0:Role", "auditor"), ("Gateway:ApiKeys:0:Id", "alice")));
        var entry = Assert.Single(options.Keys);
        Assert.Equal("the-secret-key-value", entry.Key); // control: the entry does hold the key
        Assert.Equal("ApiKeyEntry { Id = alice, Role = auditor }", entry.ToString());
        Assert.DoesNotContain("the-secret-key-value", $"{entry} {options.Keys[0]}");
    }

    [Fact]
    public void No_api_key_fails_at_startup()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GatewayOptions.From(Config(("Gateway:ApiKeys:0", " "))));
        Assert.Contains("Gateway:ApiKeys", e.Message);
    }

    [Fact]
    public void Internal_port_equal_to_public_port_fails_at_startup()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GatewayOptions.From(Config(
            ("Gateway:ApiKeys:0", "k"), ("Service:Port", "6000"), ("Gateway:InternalPort", "6000"))));
        Assert.Contains("must differ", e.Message);
    }

    [Fact]
    public void Bad_service_url_is_named()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GatewayOptions.From(Config(
            ("Gateway:ApiKeys:0", "k"), ("Services:Orchestrator", "orchestrator:5101"))));
        Assert.Contains("Services:Orchestrator", e.Message);
    }

    [Theory]
    [InlineData("x-api-key", "abc", "abc")]
    [InlineData("authorization", "Bearer abc", "abc")]
    [InlineData("authorization", "bearer abc", "abc")]
    [InlineData("authorization", "Basic abc", null)]
    [InlineData("other", "abc", null)]
    public void Presented_key_comes_from_either_header(string header, string value, string? expected)
    {
        var headers = new HeaderDictionary { [header] = value };
        Assert.Equal(expected, ApiKeyValidator.Presented(headers));
    }

    [Fact]
    public void Validator_accepts_only_configured_keys()
    {
        var validator = new ApiKeyValidator(["one", "two"]);
        Assert.True(validator.IsValid("one"));
        Assert.True(validator.IsValid("two"));
        Assert.False(validator.IsValid("on"));
        Assert.False(validator.IsValid(""));
    }
}
