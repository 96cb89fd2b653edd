using Google.Protobuf;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;
using ReBench.Sandbox.V1;

namespace ReBench.Orchestrator.Session;

/// <summary>
/// The steps an agent driver takes inside an attempt. Each step records its request before the effect and its
/// result after it; a step id already recorded returns the recorded result (a driver retrying after an
/// orchestrator restart gets the same answer, and the stream gets no duplicate).
/// </summary>
public sealed class AttemptSessionHandler(
    AttemptStore attempts,
    AttemptLocks locks,
    AttemptLifecycle lifecycle,
    ScoringGateway scorer,
    Sandbox.V1.Sandbox.SandboxClient sandbox,
    IOptions<OrchestratorOptions> options,
    TimeProvider time)
{
    private const string Actor = "agent";
    private int DefaultTimeoutSeconds => options.Value.DefaultCommandTimeoutSeconds;
    private long MaxOutputBytes => options.Value.MaxOutputBytesPerStream;

    public async Task<ActResult> ActAsync(Guid attemptId, ActRequest request, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        ActionRequested? requested = null;
        var pending = Blobs.RecordedPayloads.ForAct(request); // a write's content, stored with its action_requested
        var state = await attempts.AppendAsync(attemptId, s =>
        {
            // A step already done returns its recorded result, even once the attempt has ended.
            if (AttemptDecider.Step(s, request.StepId) == StepStatus.Done) return [];
            requested = Describe(s, request, time.GetUtcNow());
            return AttemptDecider.RequestAction(s, requested, time.GetUtcNow());
        }, ct, pending);
        if (state.CompletedSteps.GetValueOrDefault(request.StepId) is ActionCompleted done) return ToResult(done);
        requested ??= Describe(state, request, time.GetUtcNow());

        // Not linked to the caller: a driver that dies mid-step (an agents-service restart) must not cut the effect
        // short, or its resumed run would have to run the step again; the result is recorded and served to the retry.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(locks.AbortToken(attemptId));
        ActionCompleted completed;
        try
        {
            completed = request.ActionCase == ActRequest.ActionOneofCase.Run
                ? await RunAsync(state, request.StepId, request.Run.Command, requested.TimeoutSeconds, abort.Token)
                : SandboxPaths.Problem(request.WriteFile.Path, "write_file.path") is { } problem
                    ? Failed(state, request.StepId, problem)
                    : await WriteAsync(state, request.StepId, request.WriteFile, abort.Token);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            completed = Failed(state, request.StepId, "the attempt was cancelled while this step ran");
        }
        // The sandbox refused the effect for a reason the agent caused (a bad path, a full disk, a file where a directory
        // should be): a failed step the agent sees and goes on from, not an error of the Act call.
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.NotFound
                                         or StatusCode.FailedPrecondition or StatusCode.ResourceExhausted or StatusCode.OutOfRange or StatusCode.AlreadyExists)
        {
            completed = Failed(state, request.StepId, e.Status.Detail);
        }
        await attempts.AppendAsync(attemptId, s => AttemptDecider.CompleteAction(s, completed), CancellationToken.None);
        return ToResult(completed);
    }

    public async Task<ScoreResult> ScoreAsync(Guid attemptId, string stepId, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.Step(s, stepId) == StepStatus.Done
            ? [] : AttemptDecider.RequestScore(s, stepId, "agent", Actor, time.GetUtcNow()), ct);
        if (state.CompletedSteps.GetValueOrDefault(stepId) is IntermediateScoreRecorded done) return ToResult(done);
        var score = await scorer.ScoreAsync(state, stepId, ct);
        await attempts.AppendAsync(attemptId, s => AttemptDecider.RecordScore(s, score), CancellationToken.None);
        return ToResult(score);
    }

    public async Task<ScoreLogResponse> ScoreLogAsync(Guid attemptId, CancellationToken ct)
    {
        var state = await attempts.LoadAsync(attemptId, ct);
        var response = new ScoreLogResponse();
        response.Entries.AddRange(state.Scores.Select(ToResult));
        return response;
    }

    public async Task<SubmitResult> SubmitAsync(Guid attemptId, string stepId, string submission, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.Submit(s, stepId, StoredText.Clean(submission), Actor, time.GetUtcNow()), ct);
        if (state.CompletedSteps.GetValueOrDefault(stepId) is not SubmissionReceived)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {attemptId} ended before step {stepId} submitted");
        state = await lifecycle.FinalizeLockedAsync(state, ct);
        var final = state.Final ?? throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {attemptId} has no final score");
        return new SubmitResult
        {
            FinalScoreValid = final.Valid, RawScore = ScoreMath.FromStored(final.RawScore), NormalizedScore = final.NormalizedScore,
        };
    }

    public async Task<RecordModelCallResult> RecordModelCallAsync(Guid attemptId, ModelCallRecord r, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var call = new ModelCallCompleted(attemptId, r.StepId, r.Provider, r.Model, r.InputTokens, r.OutputTokens, r.ReasoningTokens,
            r.CachedTokens, r.CostUsd, r.LatencyMs, StoredText.Clean(r.RequestJson), StoredText.Clean(r.ResponseJson), time.GetUtcNow())
        {
            ReservationStepId = string.IsNullOrEmpty(r.ReservationStepId) ? null : r.ReservationStepId, // settles it (Budgets/BudgetLedger.cs)
        };
        var pending = new Blobs.PendingBlobs();
        call = Blobs.RecordedPayloads.WithBlobs(call, r.RequestJson, r.ResponseJson, pending); // full payloads as blobs
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.RecordModelCall(s, call, time.GetUtcNow()), ct, pending);
        return new RecordModelCallResult { Version = state.Version };
    }

    public async Task<AgentNoteResult> RecordAgentNoteAsync(Guid attemptId, string stepId, string kind, string json, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var note = new AgentNoteRecorded(attemptId, stepId, kind, StoredText.Clean(json), Actor, time.GetUtcNow());
        var state = await attempts.AppendAsync(attemptId, s => AgentNotes.Record(s, note, time.GetUtcNow()), ct);
        return new AgentNoteResult { Version = state.Version };
    }

    public async Task<ClockState> PauseAsync(Guid attemptId, string stepId, string reason, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.Pause(s, stepId, reason, Actor, time.GetUtcNow()), ct);
        return Clock(state);
    }

    public async Task<ClockState> ResumeAsync(Guid attemptId, string stepId, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.Resume(s, stepId, Actor, time.GetUtcNow()), ct);
        return Clock(state);
    }

    private ClockState Clock(AttemptState s)
    {
        var now = time.GetUtcNow();
        var working = AttemptDecider.ElapsedMs(s, now);
        return new ClockState
        {
            Paused = s.PausedSince is not null, WorkingMs = working, PausedTotalMs = (long)s.PausedTotal.TotalMilliseconds,
            RemainingMs = Math.Max(0, (long)s.TimeBudget.TotalMilliseconds - working),
        };
    }

    private ActionRequested Describe(AttemptState state, ActRequest request, DateTimeOffset now)
    {
        if (request.ActionCase == ActRequest.ActionOneofCase.Run)
        {
            var remaining = state.Deadline is { } d ? (int)Math.Ceiling((d - now).TotalSeconds) : DefaultTimeoutSeconds;
            var timeout = Math.Max(1, Math.Min(request.Run.TimeoutSeconds > 0 ? request.Run.TimeoutSeconds : DefaultTimeoutSeconds, remaining));
            return new ActionRequested(state.Id, request.StepId, "run", StoredText.Clean(request.Run.Command), null, null, 0, null, timeout, Actor, now);
        }
        var content = request.WriteFile.Content.Span;
        return new ActionRequested(state.Id, request.StepId, "write_file", null, StoredText.Clean(request.WriteFile.Path),
            Convert.ToHexStringLower(SHA256.HashData(content)), content.Length, StoredText.Preview(content), 0, Actor, now) { ContentBlobStored = true };
    }

    private async Task<ActionCompleted> RunAsync(AttemptState state, string stepId, string command, int timeoutSeconds, CancellationToken ct)
    {
        using var call = sandbox.Exec(new ExecRequest
        {
            EnvironmentId = state.EnvironmentId ?? "", Command = command, TimeoutSeconds = timeoutSeconds, MaxOutputBytes = MaxOutputBytes,
        }, cancellationToken: ct);
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        ExecExit? exit = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
        {
            switch (e.EventCase)
            {
                case ExecEvent.EventOneofCase.Stdout: e.Stdout.WriteTo(stdout); break;
                case ExecEvent.EventOneofCase.Stderr: e.Stderr.WriteTo(stderr); break;
                case ExecEvent.EventOneofCase.Exit: exit = e.Exit; break;
            }
        }
        if (exit is null) return Failed(state, stepId, "the sandbox ended the command without an exit status");
        return new ActionCompleted(state.Id, stepId, exit.ExitCode, StoredText.FromBytes(stdout.ToArray()),
            StoredText.FromBytes(stderr.ToArray()), exit.TimedOut, exit.StdoutElidedBytes + exit.StderrElidedBytes,
            exit.DurationMs, null, time.GetUtcNow()) { OomKilled = exit.OomKilled };
    }

    private async Task<ActionCompleted> WriteAsync(AttemptState state, string stepId, V1.WriteFile write, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var written = await sandbox.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = state.EnvironmentId ?? "", Path = write.Path, Content = write.Content,
        }, cancellationToken: ct);
        return new ActionCompleted(state.Id, stepId, 0, $"wrote {written.Size} bytes to {write.Path} (sha256 {written.Sha256})", "",
            false, 0, (long)time.GetElapsedTime(started).TotalMilliseconds, null, time.GetUtcNow());
    }

    private ActionCompleted Failed(AttemptState state, string stepId, string error) =>
        new(state.Id, stepId, -1, "", "", false, 0, 0, StoredText.Clean(error), time.GetUtcNow());

    private static ActResult ToResult(ActionCompleted c) => new()
    {
        StepId = c.StepId, ExitCode = c.ExitCode, Stdout = c.Stdout, Stderr = c.Stderr, TimedOut = c.TimedOut,
        OutputElidedBytes = c.OutputElidedBytes, DurationMs = c.DurationMs, Error = c.Error ?? "", OomKilled = c.OomKilled,
    };

    private static ScoreResult ToResult(IntermediateScoreRecorded s) => new()
    {
        Valid = s.Valid,
        ScoreVisible = s.ScoreVisible,
        RawScore = s.ScoreVisible ? ScoreMath.FromStored(s.RawScore) : double.NaN,
        NormalizedScore = s.ScoreVisible ? ScoreMath.FromStored(s.NormalizedScore) : double.NaN,
        MessageJson = s.MessageJson,
        ElapsedMs = s.ElapsedMs,
    };
}
