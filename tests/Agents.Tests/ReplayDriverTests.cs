using AgentsEntryPoint = ReBench.Agents.AgentsEntryPoint;

namespace ReBench.Agents.Tests;

/// <summary>
/// The replay driver against a fake attempt-session server on loopback that serves recorded actions and records
/// every step it is asked to take.
/// </summary>
public sealed class ReplayDriverTests : IAsyncLifetime
{
    private static readonly string Source = Guid.NewGuid().ToString();
    private readonly ReplaySession _session = new();
    private readonly int _port = TestEnv.FreePort();
    private WebApplication? _backend;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port, l => l.Protocols = HttpProtocols.Http2));
        // As the orchestrator: Act accepts writes up to 64 MiB.
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 * 1024 * 1024 + 1024);
        builder.Services.AddSingleton(_session);
        _backend = builder.Build();
        _backend.MapGrpcService<ReplaySession>();
        await _backend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_backend is not null) await _backend.DisposeAsync();
    }

    private WebApplicationFactory<AgentsEntryPoint> Agents() => new WebApplicationFactory<AgentsEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        b.UseSetting("Services:Session", $"http://127.0.0.1:{_port}").UseSetting("Services:Scoring", $"http://127.0.0.1:{_port}"));

    private static V1.Agents.AgentsClient Client(WebApplicationFactory<AgentsEntryPoint> f) =>
        new(TestPlatformKey.Channel(f.Server.BaseAddress, f.Server.CreateHandler()));

    private static async Task<Run> RunToEndAsync(V1.Agents.AgentsClient client, string attemptId)
    {
        var request = AgentsHarness.Request("replay", ("source_attempt", Source));
        request.AttemptId = attemptId;
        await client.StartRunAsync(request);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var run = await client.GetRunAsync(new GetRunRequest { AttemptId = attemptId });
            if (run.State != "running") return run;
            Assert.True(DateTime.UtcNow < deadline, $"run still running: {run}");
            await Task.Delay(50);
        }
    }

    private static RecordedActions Recorded(bool submitted)
    {
        var r = new RecordedActions
        {
            SourceAttemptId = Source, Submitted = submitted,
            Actions =
            {
                new RecordedAction { StepId = $"{Source}:1", Kind = "write_file", Path = "solution.py", Content = ByteString.CopyFromUtf8(new string('x', 4096)), ContentSource = "blob" },
                new RecordedAction { StepId = $"{Source}:2", Kind = "run", Command = "python3 solution.py", TimeoutSeconds = 77 },
                new RecordedAction { StepId = $"{Source}:3", Kind = "score" },
                new RecordedAction { StepId = $"{Source}:4", Kind = "write_file", Path = "weights.bin", ContentOmitted = true },
            },
        };
        if (submitted) r.Actions.Add(new RecordedAction { StepId = $"{Source}:5", Kind = "submit", Submission = "final answer" });
        else r.Actions.RemoveAt(3);
        return r;
    }

    [Fact]
    public async Task Replay_runs_the_recorded_actions_in_order_with_step_ids_derived_from_the_source()
    {
        _session.Recorded = Recorded(submitted: true);
        await using var agents = Agents();
        var attempt = Guid.NewGuid().ToString();
        var run = await RunToEndAsync(Client(agents), attempt);
        Assert.True(run.State == "finished", $"{run.State}: {run.Error}");

        var calls = _session.Calls.Where(c => c.AttemptId == attempt).ToList();
        Assert.Equal(["GetRecordedActions", "Act", "Act", "Score", "GetRecordedActions", "Act", "Submit"], calls.Select(c => c.Method));
        // The replay driver sends its own attempt's session credential on every call, the read of the source included.
        Assert.All(calls, c => Assert.Equal(43, c.Credential?.Length));
        Assert.Single(calls.Select(c => c.Credential).Distinct());
        Assert.Equal(Source, ((GetRecordedActionsRequest)calls[0].Request).SourceAttemptId);
        Assert.Equal([$"{attempt}:replay:{Source}:1", $"{attempt}:replay:{Source}:2", $"{attempt}:replay:{Source}:3", $"{Source}:4",
                $"{attempt}:replay:{Source}:4", $"{attempt}:replay:{Source}:5"],
            calls.Skip(1).Select(c => c.StepId));
        // The write left out of the list is fetched alone, larger than gRPC's default 4 MB message limit.
        var large = (ActRequest)calls[5].Request;
        Assert.Equal(("weights.bin", ReplaySession.LargeContentBytes), (large.WriteFile.Path, large.WriteFile.Content.Length));
        var write = (ActRequest)calls[1].Request;
        Assert.Equal(("solution.py", 4096), (write.WriteFile.Path, write.WriteFile.Content.Length));
        var command = (ActRequest)calls[2].Request;
        Assert.Equal(("python3 solution.py", 77), (command.Run.Command, command.Run.TimeoutSeconds));
        Assert.Equal("final answer", ((SubmitRequest)calls[6].Request).Submission);
    }

    [Fact]
    public async Task Replay_submits_at_the_end_when_the_source_ran_out_of_budget_and_a_restart_repeats_the_same_step_ids()
    {
        _session.Recorded = Recorded(submitted: false);
        var attempt = Guid.NewGuid().ToString();
        await using (var first = Agents()) Assert.Equal("finished", (await RunToEndAsync(Client(first), attempt)).State);
        var firstIds = _session.Calls.Where(c => c.AttemptId == attempt && c.StepId != "").Select(c => c.StepId).ToList();
        Assert.Equal($"{attempt}:replay:end", firstIds[^1]);

        // A new agents-service instance (as after a restart) re-running the same attempt asks with the very same step
        // ids, which the orchestrator answers from its record instead of acting again.
        await using (var second = Agents()) Assert.Equal("finished", (await RunToEndAsync(Client(second), attempt)).State);
        var allIds = _session.Calls.Where(c => c.AttemptId == attempt && c.StepId != "").Select(c => c.StepId).ToList();
        Assert.Equal([.. firstIds, .. firstIds], allIds);
    }

    [Fact]
    public async Task Replay_fails_the_run_with_the_reason_when_the_source_cannot_be_read()
    {
        _session.Refusal = new Status(StatusCode.PermissionDenied, "attempt X may read only the actions of the attempt named by its agent setting 'source_attempt'");
        await using var agents = Agents();
        var run = await RunToEndAsync(Client(agents), Guid.NewGuid().ToString());
        Assert.Equal("failed", run.State);
        Assert.Contains($"cannot read the recorded actions of attempt {Source}", run.Error);
        Assert.Contains("may read only", run.Error);
        // No action was replayed; the attempt was submitted as it stands, naming the failure.
        Assert.Equal(["GetRecordedActions", "Submit"], _session.Calls.Select(c => c.Method));
        Assert.Contains("cannot read the recorded actions", ((SubmitRequest)_session.Calls[^1].Request).Submission);
    }

    [Fact]
    public async Task Replay_needs_a_source_attempt_id()
    {
        await using var agents = Agents();
        var client = Client(agents);
        var e = await AgentsHarness.FailsAsync(() => client.StartRunAsync(AgentsHarness.Request("replay")).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains("source_attempt", e.Status.Detail);
        e = await AgentsHarness.FailsAsync(() => client.StartRunAsync(AgentsHarness.Request("replay", ("source_attempt", "yesterday's"))).ResponseAsync,
            StatusCode.InvalidArgument);
        Assert.Contains("must be an attempt id", e.Status.Detail);
        var agentsList = await client.ListAgentsAsync(new ListAgentsRequest());
        Assert.Equal(["source_attempt"], agentsList.Agents.Single(a => a.Name == "replay").RequiredSettings);
    }

    private sealed record Call(string Method, string AttemptId, string StepId, IMessage Request, string? Credential = null);

    /// <summary>The session API side: serves <see cref="Recorded"/> and records every call.</summary>
    private sealed class ReplaySession : AttemptSession.AttemptSessionBase
    {
        private readonly ConcurrentQueue<Call> _calls = new();
        public const int LargeContentBytes = 5 * 1024 * 1024;
        public RecordedActions Recorded { get; set; } = new();
        public Status? Refusal { get; set; }
        public IReadOnlyList<Call> Calls => [.. _calls];

        public override Task<RecordedActions> GetRecordedActions(GetRecordedActionsRequest request, ServerCallContext context)
        {
            _calls.Enqueue(new Call("GetRecordedActions", request.AttemptId, request.StepId, request, context.RequestHeaders.GetValue("x-rebench-session")));
            if (Refusal is { } refusal) throw new RpcException(refusal);
            if (request.StepId == "") return Task.FromResult(Recorded);
            return Task.FromResult(new RecordedActions
            {
                SourceAttemptId = Source,
                Actions = { new RecordedAction { StepId = request.StepId, Kind = "write_file", Path = "weights.bin", Content = ByteString.CopyFrom(new byte[LargeContentBytes]) } },
            });
        }

        public override Task<ActResult> Act(ActRequest request, ServerCallContext context)
        {
            _calls.Enqueue(new Call("Act", request.AttemptId, request.StepId, request, context.RequestHeaders.GetValue("x-rebench-session")));
            return Task.FromResult(new ActResult { StepId = request.StepId });
        }

        public override Task<ScoreResult> Score(ScoreRequest request, ServerCallContext context)
        {
            _calls.Enqueue(new Call("Score", request.AttemptId, request.StepId, request, context.RequestHeaders.GetValue("x-rebench-session")));
            return Task.FromResult(new ScoreResult { Valid = true });
        }

        public override Task<SubmitResult> Submit(SubmitRequest request, ServerCallContext context)
        {
            _calls.Enqueue(new Call("Submit", request.AttemptId, request.StepId, request, context.RequestHeaders.GetValue("x-rebench-session")));
            return Task.FromResult(new SubmitResult { FinalScoreValid = true });
        }
    }
}
