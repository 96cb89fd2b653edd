using System.Text.Json;
using Grpc.Core;
using ReBench.Agents.Session;

namespace ReBench.Agents.Runs;

/// <summary>
/// What a run that failed for good (a provider that keeps failing, a model name the endpoint rejects, a driver error)
/// leaves in the attempt's stream: a `run_failed` note with the reason, then a submission naming it, so the attempt is
/// scored as it stands and its environment freed instead of idling until its deadline. Best effort: when the session
/// API itself is what failed, both may fail too, and the attempt then ends at its deadline as before.
/// </summary>
internal static class RunFailure
{
    public const string NoteKind = "run_failed";
    private const int MaxErrorChars = 4000;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static async Task RecordAsync(AgentRun run, string error, ILogger logger, CancellationToken runToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(runToken);
        cts.CancelAfter(Limit);
        var reason = error.Length <= MaxErrorChars ? error : error[..MaxErrorChars] + "…";
        try
        {
            await run.Session.NoteAsync(NoteKind, JsonSerializer.Serialize(new { agent = run.Agent, error = reason, steps = run.Steps }), cts.Token);
        }
        catch (Exception e) when (e is RpcException or AttemptEndedException or OperationCanceledException)
        {
            logger.LogWarning("Run {Attempt}: the failure could not be noted in the attempt's stream: {Problem}", run.AttemptId, e.Message);
        }
        try
        {
            await run.Session.SubmitAsync($"the agent's run failed: {reason}", cts.Token);
        }
        catch (Exception e) when (e is RpcException or AttemptEndedException or OperationCanceledException)
        {
            logger.LogWarning("Run {Attempt}: could not submit after the failure ({Problem}); the attempt ends at its deadline", run.AttemptId, e.Message);
        }
    }
}
