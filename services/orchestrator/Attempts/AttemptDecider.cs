namespace ReBench.Orchestrator.Attempts;

public enum StepStatus { New, Pending, Done }

/// <summary>
/// Pure decisions over an attempt: each takes the current state, a command and the time (never read here),
/// and returns the events to append or throws a <see cref="DomainRejection"/>.
/// </summary>
public static class AttemptDecider
{
    public sealed record StartInfo(
        string EnvironmentId, string SandboxDriver, string Node, string TaskVersion, string BundleDigest, string ScorerDigest,
        double StartScore, double ReferenceScore, string Aggregation, bool ScoreVisible, string PlatformVersion);

    public static StepStatus Step(AttemptState s, string stepId) =>
        s.CompletedSteps.ContainsKey(stepId) ? StepStatus.Done
        : s.PendingSteps.Contains(stepId) ? StepStatus.Pending
        : StepStatus.New;

    public static object[] Start(AttemptState s, StartInfo info, string actor, DateTimeOffset now)
    {
        if (s.Phase != AttemptPhase.Scheduled)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {s.Id} cannot start: it is {Describe(s)}");
        return
        [
            new AttemptStarted(s.Id, info.EnvironmentId, info.SandboxDriver, info.Node, info.TaskVersion, info.BundleDigest,
                info.ScorerDigest, info.StartScore, info.ReferenceScore, info.Aggregation, info.ScoreVisible,
                now + s.TimeBudget, info.PlatformVersion, actor, now),
        ];
    }

    /// <summary>Recorded once per distinct reason, not on every retry of the scheduler.</summary>
    public static object[] Queue(AttemptState s, string reason, DateTimeOffset now) =>
        s.Phase == AttemptPhase.Scheduled && s.QueuedReason != reason ? [new AttemptQueued(s.Id, reason, now)] : [];

    public static object[] LaunchAgent(AttemptState s, DateTimeOffset now) =>
        s.Phase == AttemptPhase.Running && !s.AgentLaunched ? [new AgentLaunched(s.Id, s.Agent, now)] : [];

    /// <summary>Refuses any step on an attempt that is not running or whose budget is spent.</summary>
    public static void EnsureActive(AttemptState s, DateTimeOffset now)
    {
        if (s.Phase != AttemptPhase.Running)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {s.Id} is {Describe(s)}; no more steps are accepted");
        if (s.PausedSince is null && s.Deadline is { } d && now >= d)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {s.Id} has used its time budget ({s.TimeBudget}); no more steps are accepted");
    }

    /// <summary>Pausing an already paused clock is a no-op, so a retried pause records nothing twice.</summary>
    public static object[] Pause(AttemptState s, string stepId, string reason, string actor, DateTimeOffset now)
    {
        if (Step(s, stepId) == StepStatus.Done || s.PausedSince is not null) return [];
        EnsureActive(s, now);
        return [new AttemptPaused(s.Id, stepId, string.IsNullOrWhiteSpace(reason) ? "unspecified" : reason, actor, now)];
    }

    public static object[] Resume(AttemptState s, string stepId, string actor, DateTimeOffset now)
    {
        if (Step(s, stepId) == StepStatus.Done || s.PausedSince is not { } since) return [];
        if (s.Phase != AttemptPhase.Running)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {s.Id} is {Describe(s)}; its clock cannot resume");
        var pausedFor = now - since;
        return [new AttemptResumed(s.Id, stepId, pausedFor, (s.Deadline ?? now) + pausedFor, actor, now)];
    }

    public static object[] RequestAction(AttemptState s, ActionRequested request, DateTimeOffset now)
    {
        EnsureActive(s, now);
        return Step(s, request.StepId) == StepStatus.New ? [request] : [];
    }

    public static object[] CompleteAction(AttemptState s, ActionCompleted result) =>
        Step(s, result.StepId) == StepStatus.Pending ? [result] : [];

    public static object[] RequestScore(AttemptState s, string stepId, string reason, string actor, DateTimeOffset now)
    {
        if (reason != "final") EnsureActive(s, now);
        return Step(s, stepId) == StepStatus.New ? [new ScoreRequested(s.Id, stepId, reason, actor, now)] : [];
    }

    public static object[] RecordScore(AttemptState s, IntermediateScoreRecorded score) =>
        Step(s, score.StepId) == StepStatus.Pending ? [score] : [];

    public static object[] RecordModelCall(AttemptState s, ModelCallCompleted call, DateTimeOffset now)
    {
        if (Step(s, call.StepId) == StepStatus.Done) return [];
        EnsureActive(s, now);
        return [call];
    }

    public static object[] Submit(AttemptState s, string stepId, string submission, string actor, DateTimeOffset now)
    {
        if (Step(s, stepId) == StepStatus.Done) return [];
        EnsureActive(s, now);
        return [new SubmissionReceived(s.Id, stepId, submission, actor, now)];
    }

    /// <summary>
    /// The budget is spent. An action still pending here has no result because nobody was waiting for it: in the
    /// fault-free path the step's Act holds the attempt's lock, its command's timeout is capped at the deadline, and
    /// its result (exit 124, timed out, for a run) is recorded before this. After an orchestrator outage across the
    /// deadline nobody is; the result the step would have had is recorded first, marked as interrupted, so the sealed
    /// log pairs every request with a result and a re-execution compares like with like.
    /// </summary>
    public static object[] ExhaustBudget(AttemptState s, DateTimeOffset now)
    {
        if (s.Phase != AttemptPhase.Running || s.PausedSince is not null || s.Deadline is not { } d || now < d) return [];
        var interrupted = s.PendingActions.Values.OrderBy(r => r.At).ThenBy(r => r.StepId, StringComparer.Ordinal)
            .Select(r => (object)InterruptedByDeadline(r, d, now));
        return [.. interrupted, new BudgetExhausted(s.Id, d, now)];
    }

    /// <summary>Exit code of a run the deadline cut off, as the sandbox reports it (timeout(1)'s convention).</summary>
    public const int TimedOutExitCode = 124;

    public const string InterruptedByDeadlineError =
        "interrupted: the time budget ended while no result of this step had been recorded (the orchestrator was not running it)";

    private static ActionCompleted InterruptedByDeadline(ActionRequested r, DateTimeOffset deadline, DateTimeOffset now)
    {
        var ran = (long)Math.Max(0, (deadline - r.At).TotalMilliseconds);
        return r.Kind == "run"
            ? new ActionCompleted(r.AttemptId, r.StepId, TimedOutExitCode, "", "", true, 0, ran, InterruptedByDeadlineError, now)
            : new ActionCompleted(r.AttemptId, r.StepId, -1, "", "", false, 0, ran, InterruptedByDeadlineError, now);
    }

    public static object[] RecordFinalScore(AttemptState s, bool valid, double? raw, double normalized, DateTimeOffset now)
    {
        if (s.Phase != AttemptPhase.Finalizing || s.Final is not null) return [];
        var validCount = s.Scores.Count(x => x.Valid);
        return [new FinalScoreRecorded(s.Id, valid, raw, valid ? normalized : 0, s.Aggregation, validCount, now)];
    }

    public static object[] Complete(AttemptState s, DateTimeOffset now) =>
        s.Phase == AttemptPhase.Finalizing && s.Final is not null ? [new AttemptCompleted(s.Id, s.EndReason ?? "submitted", now)] : [];

    public static object[] Fail(AttemptState s, string reason, DateTimeOffset now) =>
        s.IsTerminal ? [] : [new AttemptFailed(s.Id, reason, now)];

    public static object[] Cancel(AttemptState s, string reason, string actor, DateTimeOffset now)
    {
        if (s.IsTerminal)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {s.Id} has already ended ({Describe(s)})");
        return [new AttemptCancelled(s.Id, string.IsNullOrWhiteSpace(reason) ? "cancelled by request" : reason, actor, now)];
    }

    /// <summary>Working time: wall-clock since the start less every pause, the current one included.</summary>
    public static long ElapsedMs(AttemptState s, DateTimeOffset now)
    {
        if (s.StartedAt is not { } start) return 0;
        var end = s.PausedSince ?? s.EndedAt ?? now;
        return (long)Math.Max(0, (end - start - s.PausedTotal).TotalMilliseconds);
    }

    private static string Describe(AttemptState s) => s.Phase switch
    {
        AttemptPhase.None => "unknown",
        AttemptPhase.Scheduled => "scheduled and not started yet",
        AttemptPhase.Running => "running",
        AttemptPhase.Finalizing => $"finishing ({s.EndReason})",
        AttemptPhase.Completed => $"completed ({s.EndReason})",
        AttemptPhase.Failed => $"failed: {s.FailureReason}",
        AttemptPhase.Cancelled => "cancelled",
        _ => s.Phase.ToString(),
    };
}
