using Google.Protobuf;
using Grpc.Core;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Session;

/// <summary>
/// One attempt's view of the orchestrator's attempt-session API. Every step gets the id "&lt;attempt_id&gt;:&lt;n&gt;"
/// with n counting from 1, kept across retries, so a retried or replayed step returns the orchestrator's recorded result
/// instead of acting twice. A driver that is started again after a restart replays the same ids from 1.
/// </summary>
public sealed class SessionClient(AttemptSession.AttemptSessionClient client, TransientRetry retry, Guid attemptId)
{
    private int _allocated;
    private int _completed;

    public string AttemptId { get; } = attemptId.ToString();

    /// <summary>Steps the orchestrator has answered.</summary>
    public int Steps => Volatile.Read(ref _completed);

    public Task<ActResult> RunAsync(string command, int timeoutSeconds, CancellationToken ct) =>
        StepAsync("Act(run)", (id, c) => client.ActAsync(new ActRequest
        {
            AttemptId = AttemptId, StepId = id, Run = new RunCommand { Command = command, TimeoutSeconds = timeoutSeconds },
        }, cancellationToken: c).ResponseAsync, ct);

    public Task<ActResult> WriteFileAsync(string path, ByteString content, CancellationToken ct) =>
        StepAsync("Act(write_file)", (id, c) => client.ActAsync(new ActRequest
        {
            AttemptId = AttemptId, StepId = id, WriteFile = new WriteFile { Path = path, Content = content },
        }, cancellationToken: c).ResponseAsync, ct);

    public Task<ScoreResult> ScoreAsync(CancellationToken ct) =>
        StepAsync("Score", (id, c) => client.ScoreAsync(new ScoreRequest { AttemptId = AttemptId, StepId = id }, cancellationToken: c).ResponseAsync, ct);

    public Task<SubmitResult> SubmitAsync(string submission, CancellationToken ct) =>
        StepAsync("Submit", (id, c) => client.SubmitAsync(new SubmitRequest
        {
            AttemptId = AttemptId, StepId = id, Submission = submission,
        }, cancellationToken: c).ResponseAsync, ct);

    /// <summary>A note in the attempt's stream (agent_note_recorded): <paramref name="json"/> is a JSON object.</summary>
    public Task<AgentNoteResult> NoteAsync(string kind, string json, CancellationToken ct) =>
        StepAsync("RecordAgentNote", (id, c) => client.RecordAgentNoteAsync(new AgentNoteRequest
        {
            AttemptId = AttemptId, StepId = id, Kind = kind, Json = json,
        }, cancellationToken: c).ResponseAsync, ct);

    /// <summary>Records an LLM call's usage; attempt_id and step_id are filled in here.</summary>
    public Task<RecordModelCallResult> RecordModelCallAsync(ModelCallRecord record, CancellationToken ct) =>
        StepAsync("RecordModelCall", (id, c) =>
        {
            var r = record.Clone();
            r.AttemptId = AttemptId;
            r.StepId = id;
            return client.RecordModelCallAsync(r, cancellationToken: c).ResponseAsync;
        }, ct);

    /// <summary>Stops the attempt's clock (e.g. while waiting out a provider's rate limit); the wait is not working time.</summary>
    public Task<ClockState> PauseClockAsync(string reason, CancellationToken ct) =>
        StepAsync("PauseClock", (id, c) => client.PauseClockAsync(new PauseClockRequest
        {
            AttemptId = AttemptId, StepId = id, Reason = reason,
        }, cancellationToken: c).ResponseAsync, ct);

    public Task<ClockState> ResumeClockAsync(CancellationToken ct) =>
        StepAsync("ResumeClock", (id, c) => client.ResumeClockAsync(new ResumeClockRequest { AttemptId = AttemptId, StepId = id },
            cancellationToken: c).ResponseAsync, ct);

    /// <summary>
    /// Holds a model call's worst case against the attempt's budgets before the call (Budgets in the orchestrator);
    /// RESOURCE_EXHAUSTED (the attempt has been ended) comes back as <see cref="AttemptEndedException"/>.
    /// </summary>
    public async Task<(string StepId, BudgetGrant Grant)> ReserveBudgetAsync(double worstCaseCostUsd, long worstCaseTokens, bool expireOpen, CancellationToken ct)
    {
        string? stepId = null;
        try
        {
            var grant = await StepAsync("ReserveBudget", (id, c) =>
            {
                stepId = id;
                return client.ReserveBudgetAsync(new ReserveBudgetRequest
                {
                    AttemptId = AttemptId, StepId = id, WorstCaseCostUsd = worstCaseCostUsd, WorstCaseTokens = worstCaseTokens, ExpireOpen = expireOpen,
                }, cancellationToken: c).ResponseAsync;
            }, ct);
            return (stepId!, grant);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            throw new AttemptEndedException(e.Status.Detail);
        }
    }

    /// <summary>
    /// A driver resumed after a restart continues numbering after the steps its earlier run recorded, so that no new
    /// step reuses a recorded id (which would return that step's recorded result instead of acting).
    /// </summary>
    public void ContinueAfter(int lastRecordedStep)
    {
        int seen;
        do { seen = Volatile.Read(ref _allocated); }
        while (seen < lastRecordedStep && Interlocked.CompareExchange(ref _allocated, lastRecordedStep, seen) != seen);
    }

    /// <summary>A read: it changes nothing, so it takes no step id.</summary>
    public Task<ScoreLogResponse> ScoreLogAsync(CancellationToken ct) =>
        CallAsync("ScoreLog", c => client.ScoreLogAsync(new ScoreLogRequest { AttemptId = AttemptId }, cancellationToken: c).ResponseAsync, ct);

    private async Task<T> StepAsync<T>(string what, Func<string, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var stepId = $"{AttemptId}:{Interlocked.Increment(ref _allocated)}";
        var result = await CallAsync($"{what} {stepId}", c => call(stepId, c), ct);
        Interlocked.Increment(ref _completed);
        return result;
    }

    private async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(what, call, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            throw new AttemptEndedException(e.Status.Detail);
        }
    }
}
