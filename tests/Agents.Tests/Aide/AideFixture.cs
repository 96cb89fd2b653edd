using System.Text;
using System.Text.RegularExpressions;
using AgentsEntryPoint = ReBench.Agents.AgentsEntryPoint;

namespace ReBench.Agents.Tests.Aide;

/// <summary>
/// A small task environment behind the attempt-session API, on loopback: files written by Act are kept, and running
/// or scoring a solution answers from its content. `raise` in the file makes `python3 file` fail with a traceback;
/// `# normalized=X` is the score the scorer gives it; WRONG makes the scorer call it invalid. Agent notes are kept
/// once per step id, as the orchestrator does.
/// </summary>
public sealed partial class AideEnvironment : AttemptSession.AttemptSessionBase
{
    private readonly ConcurrentQueue<SessionCall> _calls = new();
    private readonly ConcurrentDictionary<string, AgentNoteRequest> _notes = new();
    private int _count;

    public ConcurrentDictionary<string, string> Files { get; } = new();
    public IReadOnlyList<SessionCall> Calls => [.. _calls];
    public IReadOnlyList<AgentNoteRequest> Notes => [.. _calls.Where(c => c.Method == "RecordAgentNote").Select(c => (AgentNoteRequest)c.Request)
        .DistinctBy(n => n.StepId)];
    private string _scored = "solution.py";

    [GeneratedRegex(@"#\s*normalized=([0-9.]+)")]
    private static partial Regex NormalizedMarker();

    private void Record(string method, string stepId, IMessage request) =>
        _calls.Enqueue(new SessionCall(Interlocked.Increment(ref _count) - 1, method, stepId, request));

    public override Task<ActResult> Act(ActRequest request, ServerCallContext context)
    {
        Record("Act", request.StepId, request);
        if (request.ActionCase == ActRequest.ActionOneofCase.WriteFile)
        {
            Files[request.WriteFile.Path] = request.WriteFile.Content.ToStringUtf8();
            _scored = request.WriteFile.Path;
            return Task.FromResult(new ActResult { StepId = request.StepId, Stdout = $"wrote {request.WriteFile.Content.Length} bytes" });
        }
        var command = request.Run.Command;
        var result = new ActResult { StepId = request.StepId };
        if (command.StartsWith("find ", StringComparison.Ordinal))
            result.Stdout = string.Join('\n', Files.Keys.Order().Select(f => $"{f} ({Files[f].Length} bytes)")) + "\n";
        else if (command.StartsWith("test -f ", StringComparison.Ordinal))
        {
            var path = command.Split('\'')[1];
            if (Files.TryGetValue(path, out var content)) result.Stdout = Convert.ToBase64String(Encoding.UTF8.GetBytes(content));
            else result.ExitCode = 1;
        }
        else if (command.StartsWith("python3 ", StringComparison.Ordinal))
        {
            var path = command.Split('\'')[1];
            var code = Files.GetValueOrDefault(path, "");
            if (code.Contains("raise", StringComparison.Ordinal))
                (result.ExitCode, result.Stderr) = (1, "Traceback (most recent call last):\n  File \"solution.py\", line 1\nValueError: boom\n");
            else result.Stdout = "ran fine\n";
        }
        else result.ExitCode = 127;
        return Task.FromResult(result);
    }

    public override Task<ScoreResult> Score(ScoreRequest request, ServerCallContext context)
    {
        Record("Score", request.StepId, request);
        var code = Files.GetValueOrDefault(_scored, "");
        var marker = NormalizedMarker().Match(code);
        if (code.Contains("WRONG", StringComparison.Ordinal) || !marker.Success)
            return Task.FromResult(new ScoreResult
            {
                Valid = false, ScoreVisible = true, RawScore = double.NaN, NormalizedScore = double.NaN, MessageJson = """{"error":"wrong answer"}""",
            });
        var normalized = double.Parse(marker.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return Task.FromResult(new ScoreResult
        {
            Valid = true, ScoreVisible = true, NormalizedScore = normalized, RawScore = 7 - (5 * normalized),
            MessageJson = $$"""{"correct":true,"score":{{7 - (5 * normalized)}}}""",
        });
    }

    public override Task<ScoreLogResponse> ScoreLog(ScoreLogRequest request, ServerCallContext context) => Task.FromResult(new ScoreLogResponse());

    public override Task<SubmitResult> Submit(SubmitRequest request, ServerCallContext context)
    {
        Record("Submit", request.StepId, request);
        return Task.FromResult(new SubmitResult { FinalScoreValid = true, RawScore = 1, NormalizedScore = 1 });
    }

    public override Task<RecordModelCallResult> RecordModelCall(ModelCallRecord request, ServerCallContext context)
    {
        Record("RecordModelCall", request.StepId, request);
        return Task.FromResult(new RecordModelCallResult { Version = 1 });
    }

    public override Task<AgentNoteResult> RecordAgentNote(AgentNoteRequest request, ServerCallContext context)
    {
        Record("RecordAgentNote", request.StepId, request);
        _notes.TryAdd(request.StepId, request);
        return Task.FromResult(new AgentNoteResult { Version = _notes.Count });
    }

    public override Task<ClockState> PauseClock(PauseClockRequest request, ServerCallContext context) => Task.FromResult(new ClockState { Paused = true });
    public override Task<ClockState> ResumeClock(ResumeClockRequest request, ServerCallContext context) => Task.FromResult(new ClockState());
}

/// <summary>The agents service in process, its session API served by an <see cref="AideEnvironment"/>, its models by a <see cref="FakeLlmServer"/>.</summary>
public sealed class AideFixture : IAsyncDisposable
{
    private readonly int _port = TestEnv.FreePort();
    private WebApplication? _backend;
    private WebApplicationFactory<AgentsEntryPoint>? _factory;

    public FakeLlmServer Llm { get; } = new();
    public AideEnvironment Env { get; } = new();
    public V1.Agents.AgentsClient Client { get; private set; } = null!;

    public static async Task<AideFixture> StartAsync()
    {
        var f = new AideFixture();
        await f.Llm.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, f._port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(f.Env);
        f._backend = builder.Build();
        f._backend.MapGrpcService<AideEnvironment>();
        await f._backend.StartAsync();
        f._factory = new WebApplicationFactory<AgentsEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Services:Session", $"http://127.0.0.1:{f._port}").UseSetting("Services:Scoring", $"http://127.0.0.1:{f._port}");
            foreach (var (name, kind, endpoint) in new[] { ("oai", "openai", f.Llm.OpenAiEndpoint), ("claude", "anthropic", f.Llm.AnthropicEndpoint) })
            {
                b.UseSetting($"Agents:Providers:{name}:Kind", kind);
                b.UseSetting($"Agents:Providers:{name}:Endpoint", endpoint);
                b.UseSetting($"Agents:Providers:{name}:ApiKey", LlmFixture.Key);
                b.UseSetting($"Agents:Providers:{name}:Model", "fake-model");
                b.UseSetting($"Agents:Providers:{name}:InputPricePerMTok", "3");
                b.UseSetting($"Agents:Providers:{name}:OutputPricePerMTok", "15");
                b.UseSetting($"Agents:Providers:{name}:MaxRetries", "0");
            }
        });
        f.Client = new V1.Agents.AgentsClient(TestPlatformKey.Channel(f._factory.Server.BaseAddress, f._factory.Server.CreateHandler()));
        return f;
    }

    /// <summary>Runs agent aide with these settings to its end.</summary>
    public async Task<(StartRunRequest Request, Run Run)> RunAsync(params (string, string)[] settings)
    {
        var request = AgentsHarness.Request("aide", settings);
        await Client.StartRunAsync(request);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = await Client.GetRunAsync(new GetRunRequest { AttemptId = request.AttemptId });
            if (run.State != "running") return (request, run);
            Assert.True(DateTime.UtcNow < deadline, $"run still running: {run}");
            await Task.Delay(50);
        }
    }

    public IReadOnlyList<string> Methods => [.. Env.Calls.Select(c => c.Method)];
    public IReadOnlyList<ActRequest> Writes =>
        [.. Env.Calls.Where(c => c.Request is ActRequest { ActionCase: ActRequest.ActionOneofCase.WriteFile }).Select(c => (ActRequest)c.Request)];

    /// <summary>The notes' JSON bodies of one kind, in order.</summary>
    public IReadOnlyList<System.Text.Json.Nodes.JsonNode> NotesOf(string kind) =>
        [.. Env.Notes.Where(n => n.Kind == kind).Select(n => System.Text.Json.Nodes.JsonNode.Parse(n.Json)!)];

    /// <summary>The user message of the model request number <paramref name="i"/> (OpenAI wire).</summary>
    public string Prompt(int i) => Llm.Requests[i].Json["messages"]!.AsArray().Last()!["content"] switch
    {
        System.Text.Json.Nodes.JsonArray parts => string.Concat(parts.Select(p => (string?)p!["text"])),
        var text => (string)text!,
    };

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        if (_backend is not null) await _backend.DisposeAsync();
        await Llm.DisposeAsync();
    }
}
