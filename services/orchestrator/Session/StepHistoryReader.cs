using System.Globalization;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Blobs;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Session;

/// <summary>
/// GetStepHistory: an attempt's own steps for its driver to resume from after an agents-service restart. Read under
/// the attempt's lock, so a step still running (its caller gone) finishes and is recorded first, and the driver sees its
/// result instead of running it again. Model-call responses come through <see cref="ModelCallPayload"/>.
/// </summary>
public sealed class StepHistoryReader(AttemptStore attempts, AttemptLocks locks, IDocumentStore store, BlobStore blobs, TimeProvider time)
{
    /// <summary>A page holds about this many bytes of responses and outputs (gRPC's default limit is 4 MiB).</summary>
    public const int PageBytes = 2 * 1024 * 1024;

    public async Task<StepHistory> ReadAsync(Guid attemptId, int fromIndex, CancellationToken ct)
    {
        IReadOnlyList<object> events;
        AttemptState state;
        using (await locks.AcquireAsync(attemptId, ct))
        {
            state = await attempts.LoadAsync(attemptId, ct);
            await using var session = store.QuerySession();
            events = [.. (await session.Events.FetchStreamAsync(attemptId, token: ct)).Select(e => e.Data)];
        }
        var prefix = attemptId + ":";
        var last = 0;
        var steps = new List<(string Id, object Request)>();
        foreach (var e in events)
        {
            var stepId = e switch
            {
                ActionRequested x => x.StepId, ScoreRequested x => x.StepId, ModelCallCompleted x => x.StepId,
                SubmissionReceived x => x.StepId, AttemptPaused x => x.StepId, AttemptResumed x => x.StepId,
                AgentNoteRecorded x => x.StepId, Budgets.BudgetReserved x => x.StepId, _ => null,
            };
            if (stepId is null) continue;
            if (stepId.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(stepId.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) last = Math.Max(last, n);
            if (e is ActionRequested or ScoreRequested or ModelCallCompleted or SubmissionReceived) steps.Add((stepId, e));
        }

        var history = new StepHistory { Clock = Clock(state), LastStepNumber = last };
        var bytes = 0L;
        for (var i = Math.Max(0, fromIndex); i < steps.Count; i++)
        {
            if (bytes > PageBytes) { history.NextIndex = i; break; }
            var step = await DescribeAsync(state, steps[i].Id, steps[i].Request, ct);
            bytes += step.CalculateSize();
            history.Steps.Add(step);
        }
        return history;
    }

    private async Task<RecordedStep> DescribeAsync(AttemptState state, string stepId, object request, CancellationToken ct)
    {
        var done = state.CompletedSteps.GetValueOrDefault(stepId);
        var step = new RecordedStep { StepId = stepId, Completed = done is not null };
        switch (request)
        {
            case ActionRequested a:
                step.Kind = a.Kind;
                step.Command = a.Command ?? "";
                step.Path = a.Path ?? "";
                if (done is ActionCompleted c)
                {
                    step.Act = new ActResult
                    {
                        StepId = c.StepId, ExitCode = c.ExitCode, Stdout = c.Stdout, Stderr = c.Stderr, TimedOut = c.TimedOut,
                        OutputElidedBytes = c.OutputElidedBytes, DurationMs = c.DurationMs, Error = c.Error ?? "",
                    };
                }
                break;
            case ScoreRequested:
                step.Kind = "score";
                if (done is IntermediateScoreRecorded s)
                {
                    step.Score = new ScoreResult
                    {
                        Valid = s.Valid, ScoreVisible = s.ScoreVisible,
                        RawScore = s.ScoreVisible ? ScoreMath.FromStored(s.RawScore) : double.NaN,
                        NormalizedScore = s.ScoreVisible ? ScoreMath.FromStored(s.NormalizedScore) : double.NaN,
                        MessageJson = s.MessageJson, ElapsedMs = s.ElapsedMs,
                    };
                }
                break;
            case SubmissionReceived:
                step.Kind = "submit";
                break;
            case ModelCallCompleted m:
                step.Kind = "model_call";
                step.Completed = true;
                step.ResponseJson = await ModelCallPayload.ResponseAsync(m, blobs, ct);
                step.ModelCallFailed = ModelCallPayload.IsErrorRecord(step.ResponseJson);
                break;
        }
        return step;
    }

    private ClockState Clock(AttemptState s)
    {
        var working = AttemptDecider.ElapsedMs(s, time.GetUtcNow());
        return new ClockState
        {
            Paused = s.PausedSince is not null, WorkingMs = working, PausedTotalMs = (long)s.PausedTotal.TotalMilliseconds,
            RemainingMs = Math.Max(0, (long)s.TimeBudget.TotalMilliseconds - working),
        };
    }
}

/// <summary>A model call's full payloads: the blob when the event names one (its inline JSON is then a preview), else the inline JSON.</summary>
public static class ModelCallPayload
{
    public static async Task<string> ResponseAsync(ModelCallCompleted call, BlobStore blobs, CancellationToken ct) =>
        call.ResponseBlobSha256 is { Length: > 0 } sha && await blobs.TryGetAsync(sha, ct) is { } bytes
            ? Encoding.UTF8.GetString(bytes) : call.ResponseJson;

    public static async Task<string> RequestAsync(ModelCallCompleted call, BlobStore blobs, CancellationToken ct) =>
        call.RequestBlobSha256 is { Length: > 0 } sha && await blobs.TryGetAsync(sha, ct) is { } bytes
            ? Encoding.UTF8.GetString(bytes) : call.RequestJson;

    /// <summary>The agents service records a failed call as {"error": "...", "http_status": ..., "retries": ...}.</summary>
    public static bool IsErrorRecord(string json) =>
        json.StartsWith("{\"error\":\"", StringComparison.Ordinal) && json.Contains("\"retries\":", StringComparison.Ordinal);
}
