using Microsoft.Extensions.Hosting;
using ReBench.Scoring.V1;

namespace ReBench.Agents.Tests;

/// <summary>One call the fake orchestrator received, failed or not, in arrival order, with the session credential it carried.</summary>
public sealed record SessionCall(int Index, string Method, string StepId, IMessage Request)
{
    public string? Credential { get; init; }
}

/// <summary>
/// A stand-in for the orchestrator's attempt-session API that records every call. <see cref="Behavior"/> runs before
/// each answer and may delay or throw an RpcException.
/// </summary>
public sealed class FakeSession : AttemptSession.AttemptSessionBase
{
    private readonly ConcurrentQueue<SessionCall> _calls = new();
    private int _count;

    public Func<SessionCall, ServerCallContext, Task>? Behavior { get; set; }
    public string ActStdout { get; set; } = "ok\n";
    public IReadOnlyList<SessionCall> Calls => [.. _calls];
    public TaskCompletionSource<SessionCall> FirstCall { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task<ActResult> Act(ActRequest request, ServerCallContext context)
    {
        await RecordAsync("Act", request.StepId, request, context);
        return new ActResult { StepId = request.StepId, ExitCode = 0, Stdout = ActStdout };
    }

    public override async Task<ScoreResult> Score(ScoreRequest request, ServerCallContext context)
    {
        await RecordAsync("Score", request.StepId, request, context);
        return new ScoreResult { Valid = true, ScoreVisible = true, RawScore = 0.5, NormalizedScore = 0.25, MessageJson = "{}" };
    }

    public override async Task<ScoreLogResponse> ScoreLog(ScoreLogRequest request, ServerCallContext context)
    {
        await RecordAsync("ScoreLog", "", request, context);
        return new ScoreLogResponse();
    }

    public override async Task<SubmitResult> Submit(SubmitRequest request, ServerCallContext context)
    {
        await RecordAsync("Submit", request.StepId, request, context);
        return new SubmitResult { FinalScoreValid = true, RawScore = 0.5, NormalizedScore = 0.25 };
    }

    public override async Task<RecordModelCallResult> RecordModelCall(ModelCallRecord request, ServerCallContext context)
    {
        await RecordAsync("RecordModelCall", request.StepId, request, context);
        return new RecordModelCallResult { Version = 1 };
    }

    public override async Task<AgentNoteResult> RecordAgentNote(AgentNoteRequest request, ServerCallContext context)
    {
        await RecordAsync("RecordAgentNote", request.StepId, request, context);
        return new AgentNoteResult { Version = 1 };
    }

    public override async Task<ClockState> PauseClock(PauseClockRequest request, ServerCallContext context)
    {
        await RecordAsync("PauseClock", request.StepId, request, context);
        return new ClockState { Paused = true };
    }

    public override async Task<ClockState> ResumeClock(ResumeClockRequest request, ServerCallContext context)
    {
        await RecordAsync("ResumeClock", request.StepId, request, context);
        return new ClockState { Paused = false };
    }

    private async Task RecordAsync(string method, string stepId, IMessage request, ServerCallContext context)
    {
        var call = new SessionCall(Interlocked.Increment(ref _count) - 1, method, stepId, request)
        {
            Credential = context.RequestHeaders.GetValue("x-rebench-session"),
        };
        _calls.Enqueue(call);
        FirstCall.TrySetResult(call);
        if (Behavior is { } behave) await behave(call, context);
    }
}

/// <summary>A stand-in for the scoring service: only GetReferenceSolution answers.</summary>
public sealed class FakeScoring : Scoring.V1.Scoring.ScoringBase
{
    private readonly ConcurrentQueue<GetReferenceSolutionRequest> _requests = new();

    public ReferenceSolution Solution { get; set; } = new();
    public IReadOnlyList<GetReferenceSolutionRequest> Requests => [.. _requests];

    public override Task<ReferenceSolution> GetReferenceSolution(GetReferenceSolutionRequest request, ServerCallContext context)
    {
        _requests.Enqueue(request);
        if (Solution.Files.Count == 0)
            throw new RpcException(new Status(StatusCode.NotFound, $"task '{request.TaskId}' has no reference solution"));
        return Task.FromResult(Solution);
    }
}

/// <summary>The fake session and scoring servers on one real loopback port, which can be stopped and started again.</summary>
public sealed class FakeBackends : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Chosen by the OS at the first start (a port picked beforehand can be taken by another test in between),
    /// then kept, so a restart comes back where the agents service already points.</summary>
    public int Port { get; private set; }
    public string Address => $"http://127.0.0.1:{Port}";
    public FakeSession Session { get; } = new();
    public FakeScoring Scoring { get; } = new();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        // Short, so that stopping aborts a call that hangs, as a crashing orchestrator would.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(500));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(Session);
        builder.Services.AddSingleton(Scoring);
        var app = builder.Build();
        app.MapGrpcService<FakeSession>();
        app.MapGrpcService<FakeScoring>();
        await app.StartAsync();
        if (Port == 0) Port = new Uri(app.Urls.Single()).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
