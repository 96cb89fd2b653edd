using Grpc.Core;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Replay;

/// <summary>
/// Session steps with caller-chosen step ids (the <see cref="SessionClient"/> numbers its own): a re-execution's
/// step id is "&lt;attempt&gt;:replay:&lt;source step id&gt;", stable across restarts and readable next to the source's.
/// </summary>
internal sealed class ReplaySteps(AttemptSession.AttemptSessionClient client, TransientRetry retry, Guid attemptId)
{
    private readonly string _attemptId = attemptId.ToString();

    public static string StepIdFor(Guid attemptId, string sourceStepId) => $"{attemptId}:replay:{sourceStepId}";

    public Task<ActResult> ActAsync(ActRequest request, CancellationToken ct)
    {
        request.AttemptId = _attemptId;
        return CallAsync($"Act {request.StepId}", c => client.ActAsync(request, cancellationToken: c).ResponseAsync, ct);
    }

    public Task<ScoreResult> ScoreAsync(string stepId, CancellationToken ct) =>
        CallAsync($"Score {stepId}", c => client.ScoreAsync(new ScoreRequest { AttemptId = _attemptId, StepId = stepId }, cancellationToken: c).ResponseAsync, ct);

    public Task<SubmitResult> SubmitAsync(string stepId, string submission, CancellationToken ct) =>
        CallAsync($"Submit {stepId}", c => client.SubmitAsync(new SubmitRequest
        {
            AttemptId = _attemptId, StepId = stepId, Submission = submission,
        }, cancellationToken: c).ResponseAsync, ct);

    private async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(what, call, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            // As for every driver: the orchestrator accepts no more steps (deadline, cancel).
            throw new AttemptEndedException(e.Status.Detail);
        }
    }
}
