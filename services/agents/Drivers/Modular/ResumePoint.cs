using Grpc.Core;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Modular;

/// <summary>
/// What an earlier run of this attempt recorded (GetStepHistory): the model's answers to replay, the agent's steps with
/// their results, the clock and the last step number. Null from <see cref="LoadAsync"/> for a fresh attempt.
/// </summary>
public sealed record ResumePoint(IReadOnlyList<string> Responses, IReadOnlyList<RecordedStep> Actions, ClockState Clock, int LastStepNumber)
{
    public static async Task<ResumePoint?> LoadAsync(AttemptSession.AttemptSessionClient client, TransientRetry retry, Guid attemptId, CancellationToken ct)
    {
        var steps = new List<RecordedStep>();
        StepHistory page;
        var from = 0;
        try
        {
            do
            {
                page = await retry.RunAsync("GetStepHistory", c => client.GetStepHistoryAsync(new GetStepHistoryRequest
                {
                    AttemptId = attemptId.ToString(), FromIndex = from,
                }, cancellationToken: c).ResponseAsync, ct);
                steps.AddRange(page.Steps);
                from = page.NextIndex;
            }
            while (from > 0);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return null; // an orchestrator without the call: start afresh, as before
        }
        if (page.LastStepNumber == 0 && steps.Count == 0) return null;
        return new ResumePoint(
            [.. steps.Where(s => s.Kind == "model_call" && !s.ModelCallFailed).Select(s => s.ResponseJson)],
            [.. steps.Where(s => s.Kind is "run" or "write_file" or "score" or "submit")],
            page.Clock ?? new ClockState(), page.LastStepNumber);
    }
}
