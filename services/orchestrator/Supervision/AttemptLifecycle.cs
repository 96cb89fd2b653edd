using ReBench.Agents.V1;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Sandbox.V1;
using ReBench.Scoring.V1;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// Drives an attempt through start, final scoring and the end. Every method reloads the stream under the attempt's
/// lock and acts on what is recorded, so any of them can be run again after a crash and picks up where it stopped.
/// </summary>
public sealed class AttemptLifecycle(
    AttemptStore attempts,
    AttemptLocks locks,
    Sandbox.V1.Sandbox.SandboxClient sandbox,
    Scoring.V1.Scoring.ScoringClient scoring,
    Agents.V1.Agents.AgentsClient agents,
    ScoringGateway scorer,
    TimeProvider time,
    ILogger<AttemptLifecycle> logger,
    AttemptPlacement placement,
    IAttemptRecorders terminals,
    EnvironmentTeardown teardown,
    SessionCredentials credentials)
{
    private const string Actor = "orchestrator";
    public const string FinalStepId = "final";

    public async Task StartAsync(Guid attemptId, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.LoadAsync(attemptId, ct);
        if (state.Phase != AttemptPhase.Scheduled) return;
        try
        {
            var task = await scoring.GetTaskAsync(new GetTaskRequest { TaskId = state.TaskId, Variant = state.Variant }, cancellationToken: ct);
            var env = await sandbox.CreateEnvironmentAsync(new CreateEnvironmentRequest
            {
                EnvironmentId = attemptId.ToString("N"),
                TaskId = task.TaskId,
                AgentFilesDir = task.AgentFilesDir,
                ProtectedFilesDir = task.ProtectedFilesDir,
                Network = task.Network,
                AllowedEndpoints = { placement.EndpointsFor(task.TaskId, task.Network) },
                AgentReadable = { task.AgentReadableFiles },
                Resources = new Resources { Cpus = task.Cpus, MemoryMb = task.MemoryMb, DiskMb = task.DiskMb, GpuCount = task.GpuCount, GpuModel = task.GpuModel },
                Labels = { ["attempt"] = attemptId.ToString(), ["campaign"] = state.CampaignId.ToString() },
            }, cancellationToken: ct);
            await PrepareEnvironmentAsync(state, env.EnvironmentId, ct);
            var info = new AttemptDecider.StartInfo(env.EnvironmentId, env.Driver, System.Environment.MachineName, task.Version,
                task.BundleDigest, task.ScorerDigest, task.StartScore, task.ReferenceScore,
                task.Aggregation.ToString().Replace("Aggregation", "").ToLowerInvariant(), task.ScoreVisible, PlatformInfo.Version);
            state = await attempts.AppendAsync(attemptId, s => AttemptProvenance.Enrich(
                AttemptDecider.Start(s, info, Actor, time.GetUtcNow()), s, env, PlatformInfo.Version, task.AgentEnvironmentVariables), ct);
            await LaunchAgentAsync(state, task.Instructions, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            // Busy, not impossible: the attempt stays scheduled (visibly queued) and the supervisor tries again.
            await attempts.AppendAsync(attemptId, s => AttemptDecider.Queue(s, e.Status.Detail, time.GetUtcNow()), ct);
        }
        catch (RpcException e) when (!ct.IsCancellationRequested && e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            logger.LogWarning("Attempt {Attempt} could not start: {Error}", attemptId, e.Status.Detail);
            await attempts.AppendAsync(attemptId, s => AttemptDecider.Fail(s, $"could not start: {e.Status.Detail}", time.GetUtcNow()), ct);
            await teardown.DestroyAsync(attemptId.ToString("N"));
        }
    }

    /// <summary>
    /// The scoring service readies the environment before the agent starts (score log, tamper baseline, a Task
    /// Standard family's start()). A scoring service without the call (older version) is skipped.
    /// </summary>
    private async Task PrepareEnvironmentAsync(AttemptState state, string environmentId, CancellationToken ct)
    {
        try
        {
            await scoring.PrepareEnvironmentAsync(new PrepareEnvironmentRequest
            {
                AttemptId = state.Id.ToString(), TaskId = state.TaskId, Variant = state.Variant, EnvironmentId = environmentId,
            }, cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            logger.LogDebug("The scoring service does not prepare environments: {Status}", e.Status);
        }
    }

    /// <summary>Asks the agents service to run the attempt; StartRun is idempotent, so a restart may call it again.</summary>
    public async Task LaunchAgentAsync(AttemptState state, string? instructions, CancellationToken ct)
    {
        if (state.Phase != AttemptPhase.Running || state.AgentLaunched) return;
        if (state.Agent == AttemptSupervisor.HumanAgent)
        {
            // A person drives it through OpenTerminal and the Human* calls (Terminal/): no agent driver is asked;
            // agent_launched marks the environment as handed over.
            await attempts.AppendAsync(state.Id, s => AttemptDecider.LaunchAgent(s, time.GetUtcNow()), ct);
            return;
        }
        instructions ??= (await scoring.GetTaskAsync(new GetTaskRequest { TaskId = state.TaskId, Variant = state.Variant }, cancellationToken: ct)).Instructions;
        var request = new StartRunRequest
        {
            AttemptId = state.Id.ToString(), Agent = state.Agent, TaskId = state.TaskId, Variant = state.Variant,
            Instructions = instructions, TimeBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(state.TimeBudget),
        };
        request.Settings.Add(state.AgentSettings);
        try
        {
            // Minted for every launch (a restart that launches again replaces the run's credential): only its hash is kept.
            request.SessionCredential = await credentials.IssueAsync(state.Id, ct);
            await agents.StartRunAsync(request, cancellationToken: ct);
            await attempts.AppendAsync(state.Id, s => AttemptDecider.LaunchAgent(s, time.GetUtcNow()), ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            await attempts.AppendAsync(state.Id, s => AttemptDecider.Fail(s, $"agent refused the run: {e.Status.Detail}", time.GetUtcNow()), ct);
            await teardown.DestroyAsync(state.EnvironmentId);
        }
    }

    /// <summary>Ends an attempt whose deadline has passed: the budget is recorded as spent, then it is finalized.</summary>
    public async Task EnforceDeadlineAsync(Guid attemptId, CancellationToken ct)
    {
        // A human's terminal may still batch the last second of output; written after the budget ends it would be
        // refused (the attempt is finalizing) and lost from the record.
        await terminals.FlushAsync(attemptId, ct);
        using var _ = await locks.AcquireAsync(attemptId, ct);
        var state = await attempts.AppendAsync(attemptId, s => AttemptDecider.ExhaustBudget(s, time.GetUtcNow()), ct);
        if (state.Phase == AttemptPhase.Finalizing) await FinalizeLockedAsync(state, ct);
    }

    public async Task FinalizeAsync(Guid attemptId, CancellationToken ct)
    {
        using var _ = await locks.AcquireAsync(attemptId, ct);
        await FinalizeLockedAsync(await attempts.LoadAsync(attemptId, ct), ct);
    }

    /// <summary>One last intermediate score, the aggregate by the task's rule, then completion. Caller holds the lock.</summary>
    public async Task<AttemptState> FinalizeLockedAsync(AttemptState state, CancellationToken ct)
    {
        if (state.Phase != AttemptPhase.Finalizing) return state;
        if (!state.CompletedSteps.ContainsKey(FinalStepId))
        {
            state = await attempts.AppendAsync(state.Id, s => AttemptDecider.RequestScore(s, FinalStepId, "final", Actor, time.GetUtcNow()), ct);
            var score = await scorer.ScoreAsync(state, FinalStepId, ct);
            state = await attempts.AppendAsync(state.Id, s => AttemptDecider.RecordScore(s, score), ct);
        }
        if (state.Final is null)
        {
            var request = new AggregateRequest { TaskId = state.TaskId, Variant = state.Variant, EnvironmentId = state.EnvironmentId ?? "" };
            // An end-only Task Standard family scores the submission itself (scoring.proto AggregateRequest.submission).
            request.Submission = state.CompletedSteps.Values.OfType<SubmissionReceived>().FirstOrDefault()?.Submission ?? "";
            request.RawScores.AddRange(state.Scores.Select(s => ScoreMath.FromStored(s.RawScore)));
            var final = await scoring.AggregateAsync(request, cancellationToken: ct);
            state = await attempts.AppendAsync(state.Id, s => AttemptDecider.RecordFinalScore(
                s, final.Valid, ScoreMath.ToStored(final.RawScore), final.Valid ? final.NormalizedScore : 0, time.GetUtcNow()), ct);
        }
        state = await attempts.AppendAsync(state.Id, s => AttemptDecider.Complete(s, time.GetUtcNow()), ct);
        await ReleaseResourcesAsync(state);
        return state;
    }

    public async Task<AttemptState> CancelAsync(Guid attemptId, string reason, string actor, CancellationToken ct)
    {
        var state = await attempts.LoadAsync(attemptId, ct);
        if (state.IsTerminal) AttemptDecider.Cancel(state, reason, actor, time.GetUtcNow()); // throws with the reason
        locks.Abort(attemptId);
        using var _ = await locks.AcquireAsync(attemptId, ct);
        state = await attempts.AppendAsync(attemptId, s => AttemptDecider.Cancel(s, reason, actor, time.GetUtcNow()), ct);
        await ReleaseResourcesAsync(state);
        return state;
    }

    /// <summary>
    /// Stops the agent run and destroys the environment, each under its own deadline: the caller's token may be the
    /// very call that stopping the run cancels (a driver's Submit), and neither step may be cut short by it.
    /// </summary>
    private async Task ReleaseResourcesAsync(AttemptState state)
    {
        await EnvironmentTeardown.StopRunAsync(agents, state.Id, state.EndReason ?? "", time, logger);
        await teardown.DestroyAsync(state.EnvironmentId);
    }
}
