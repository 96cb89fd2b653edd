namespace ReBench.Agents.Tests;

/// <summary>
/// ValidateAgent: everything StartRun would refuse, plus the provider's endpoint, is found without starting anything.
/// Every endpoint here is on loopback: the fake model server, and a port nobody listens on.
/// </summary>
public sealed class ValidateAgentTests : IAsyncLifetime
{
    private LlmFixture _f = null!;
    private readonly int _closedPort = TestEnv.FreePort();

    public async Task InitializeAsync() => _f = await LlmFixture.StartAsync(
        ("Agents:Providers:down:Kind", "openai"),
        ("Agents:Providers:down:Endpoint", $"http://127.0.0.1:{_closedPort}/v1"),
        ("Agents:Providers:down:ApiKey", "unused"),
        ("Agents:Providers:down:Model", "m"),
        // No Endpoint: the vendor's public one, which is never connected to (and not here).
        ("Agents:Providers:vendor:Kind", "openai"),
        ("Agents:Providers:vendor:ApiKey", "unused"),
        ("Agents:Providers:vendor:Model", "m"));

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private Task<ValidateAgentResponse> Validate(string agent, params (string Key, string Value)[] settings)
    {
        var r = new ValidateAgentRequest { Agent = agent };
        foreach (var (k, v) in settings) r.Settings[k] = v;
        return _f.Harness.Client.ValidateAgentAsync(r).ResponseAsync;
    }

    private async Task<string> Refused(StatusCode code, string agent, params (string Key, string Value)[] settings)
    {
        var e = await AgentsHarness.FailsAsync(() => Validate(agent, settings), code);
        Assert.True(e.Status.Detail.Length <= 310, $"{e.Status.Detail.Length} characters");
        return e.Status.Detail;
    }

    [Fact]
    public async Task A_malformed_script_is_invalid_naming_its_first_bad_line()
    {
        var detail = await Refused(StatusCode.InvalidArgument, "scripted", ("script", "{\"run\": \"ls\"}\n{\"run\": \"ls\", \"tiemout\": 5}\nnot json"));
        Assert.Contains("script line 2", detail);
        Assert.Contains("tiemout", detail);
        Assert.Contains("script line 1", await Refused(StatusCode.InvalidArgument, "scripted", ("script", "{\"run\": ")));
        Assert.Contains("script", await Refused(StatusCode.InvalidArgument, "scripted"));
        // Control: a good script passes, and nothing was started or called.
        var ok = await Validate("scripted", ("script", "{\"run\": \"ls\", \"timeout\": 5}\n{\"score\": true}\n{\"submit\": \"done\"}"));
        Assert.Equal("", ok.Provider);
        Assert.Empty(_f.Session.Calls);
    }

    [Fact]
    public async Task An_unknown_agent_is_not_found_and_an_unknown_provider_invalid()
    {
        Assert.Contains("unknown agent 'gpt-wizard'", await Refused(StatusCode.NotFound, "gpt-wizard"));
        Assert.Contains("unknown provider 'nope'", await Refused(StatusCode.InvalidArgument, "modular", ("provider", "nope")));
        Assert.Contains("unknown provider 'nope'", await Refused(StatusCode.InvalidArgument, "aide", ("provider", "nope")));
        Assert.Contains("no API key", await Refused(StatusCode.InvalidArgument, "modular", ("provider", "nokey")));
        // A 100 KB provider name is quoted only in part.
        await Refused(StatusCode.InvalidArgument, "modular", ("provider", new string('p', 100_000)));
        Assert.Empty(_f.Session.Calls);
    }

    [Theory]
    [InlineData("modular", "cost_budget_usd", "abc")]
    [InlineData("modular", "cost_budget_usd", "-5")]
    [InlineData("modular", "cost_budget_usd", "NaN")]
    [InlineData("modular", "token_budget", "1.5")]
    [InlineData("modular", "token_budget", "0")]
    [InlineData("modular", "model", " ")]
    [InlineData("modular", "max_turns", "many")]
    [InlineData("aide", "cost_budget_usd", "abc")]
    [InlineData("aide", "cost_budget_usd", "0")]
    [InlineData("aide", "token_budget", "-1")]
    [InlineData("aide", "model", "")]
    [InlineData("aide", "num_drafts", "x")]
    public async Task A_setting_of_the_wrong_type_or_range_is_invalid_naming_it(string agent, string setting, string value)
    {
        var detail = await Refused(StatusCode.InvalidArgument, agent, ("provider", "oai"), (setting, value));
        Assert.Contains($"'{setting}'", detail);
    }

    [Theory]
    [InlineData("modular")]
    [InlineData("aide")]
    public async Task Good_settings_pass_with_the_endpoint_checked(string agent)
    {
        var ok = await Validate(agent, ("provider", "oai"), ("model", "fake-model"), ("cost_budget_usd", "5"), ("token_budget", "100000"));
        Assert.Equal("oai", ok.Provider);
        Assert.True(ok.EndpointChecked);
        Assert.Empty(_f.Session.Calls);
        Assert.Empty(_f.ModelCalls);
    }

    [Fact]
    public async Task A_provider_whose_endpoint_refuses_connections_is_a_FailedPrecondition()
    {
        var detail = await Refused(StatusCode.FailedPrecondition, "modular", ("provider", "down"));
        Assert.Contains("provider 'down'", detail);
        Assert.Contains($"127.0.0.1:{_closedPort}", detail);
        await Refused(StatusCode.FailedPrecondition, "aide", ("provider", "down"));
        // A provider on the vendor's public endpoint is not connected to: valid, not checked.
        var vendor = await Validate("modular", ("provider", "vendor"));
        Assert.False(vendor.EndpointChecked);
    }
}
