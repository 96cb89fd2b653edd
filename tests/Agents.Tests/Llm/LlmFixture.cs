namespace ReBench.Agents.Tests.Llm;

/// <summary>The agents service in process with two providers configured against one fake model server on loopback.</summary>
public sealed class LlmFixture : IAsyncDisposable
{
    public const string Key = "sk-test-secret-0123456789";
    public const string ClaudeKey = "sk-ant-test-secret-9876543210";

    private LlmFixture(FakeLlmServer llm, AgentsHarness harness) => (Llm, Harness) = (llm, harness);

    public FakeLlmServer Llm { get; }
    public AgentsHarness Harness { get; }
    public FakeSession Session => Harness.Session;

    public static async Task<LlmFixture> StartAsync(params (string Key, string Value)[] extra)
    {
        var llm = new FakeLlmServer();
        await llm.StartAsync();
        (string, string)[] settings =
        [
            ("Agents:Providers:oai:Kind", "openai"),
            ("Agents:Providers:oai:Endpoint", llm.OpenAiEndpoint),
            ("Agents:Providers:oai:ApiKey", Key),
            ("Agents:Providers:oai:Model", "fake-model"),
            ("Agents:Providers:oai:InputPricePerMTok", "3"),
            ("Agents:Providers:oai:OutputPricePerMTok", "15"),
            ("Agents:Providers:oai:CachedInputPricePerMTok", "0.3"),
            ("Agents:Providers:oai:RetryInitialDelay", "00:00:00.05"),
            ("Agents:Providers:oai:RetryMaxDelay", "00:00:00.2"),
            ("Agents:Providers:oai:MaxRetries", "3"),
            ("Agents:Providers:claude:Kind", "anthropic"),
            ("Agents:Providers:claude:Endpoint", llm.AnthropicEndpoint),
            ("Agents:Providers:claude:ApiKey", ClaudeKey),
            ("Agents:Providers:claude:Model", "claude-fake"),
            ("Agents:Providers:claude:InputPricePerMTok", "3"),
            ("Agents:Providers:claude:OutputPricePerMTok", "15"),
            ("Agents:Providers:claude:RetryInitialDelay", "00:00:00.05"),
            ("Agents:Providers:claude:MaxRetries", "2"),
            ("Agents:Providers:nokey:Kind", "openai"),
            ("Agents:Providers:nokey:Endpoint", llm.OpenAiEndpoint),
            ("Agents:Providers:nokey:Model", "fake-model"),
            .. extra,
        ];
        return new LlmFixture(llm, await AgentsHarness.StartAsync(settings));
    }

    /// <summary>Starts a modular run and waits for its end.</summary>
    public async Task<(StartRunRequest Request, Run Run)> RunAsync(string provider, params (string, string)[] settings)
    {
        var request = AgentsHarness.Request("modular", [("provider", provider), .. settings]);
        await Harness.Client.StartRunAsync(request);
        return (request, await Harness.WaitForEndAsync(request.AttemptId, TimeSpan.FromSeconds(60)));
    }

    public IReadOnlyList<ModelCallRecord> ModelCalls =>
        [.. Session.Calls.Where(c => c.Method == "RecordModelCall").Select(c => (ModelCallRecord)c.Request)];

    public IReadOnlyList<string> Methods => [.. Session.Calls.Select(c => c.Method)];

    public async ValueTask DisposeAsync()
    {
        await Harness.DisposeAsync();
        await Llm.DisposeAsync();
    }
}
