using Grpc.Core;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Replay;

/// <summary>
/// Re-executes an ended attempt (setting source_attempt): reads its recorded actions through the session API and runs
/// them again in order (commands with the timeouts they ran with, file writes with their full content, score requests,
/// the submit), with no model calls. Each step's id is derived from the source's step id, so a driver started again
/// after an agents-service restart gets the recorded results of the steps already done instead of running them twice.
/// </summary>
public sealed class ReplayDriver(AttemptSession.AttemptSessionClient client, TransientRetry retry) : IAgentDriver
{
    public const string SourceSetting = "source_attempt";

    public string Name => "replay";
    public string Description => "Re-runs the recorded actions of the ended attempt in setting 'source_attempt' (runs, file writes, scores, submit) in order, with no LLM calls.";
    public IReadOnlyList<string> RequiredSettings => [SourceSetting];

    public string? ValidateSettings(IReadOnlyDictionary<string, string> settings) =>
        Guid.TryParse(settings.GetValueOrDefault(SourceSetting), out _)
            ? null : $"setting '{SourceSetting}' must be an attempt id (a UUID), got '{settings.GetValueOrDefault(SourceSetting)}'";

    public async Task RunAsync(AgentRunContext context, CancellationToken ct)
    {
        var steps = new ReplaySteps(client, retry, context.AttemptId);
        var sourceId = Guid.Parse(context.Settings[SourceSetting]);
        var recorded = await ReadAsync(context.AttemptId, sourceId, "", ct);
        context.Logger.LogInformation("Attempt {Attempt}: re-executing {Count} recorded actions of attempt {Source}",
            context.AttemptId, recorded.Actions.Count, sourceId);

        foreach (var action in recorded.Actions)
        {
            var stepId = ReplaySteps.StepIdFor(context.AttemptId, action.StepId);
            context.Logger.LogDebug("Attempt {Attempt}: {Kind} {Step}", context.AttemptId, action.Kind, stepId);
            switch (action.Kind)
            {
                case "run":
                    await steps.ActAsync(new ActRequest { StepId = stepId, Run = new RunCommand { Command = action.Command, TimeoutSeconds = action.TimeoutSeconds } }, ct);
                    break;
                case "write_file":
                    // A large write's content is left out of the list; it is fetched just before it is written again.
                    var content = action.ContentOmitted ? (await ReadAsync(context.AttemptId, sourceId, action.StepId, ct)).Actions.Single().Content : action.Content;
                    await steps.ActAsync(new ActRequest { StepId = stepId, WriteFile = new WriteFile { Path = action.Path, Content = content } }, ct);
                    break;
                case "score":
                    await steps.ScoreAsync(stepId, ct);
                    break;
                case "submit":
                    await steps.SubmitAsync(stepId, action.Submission, ct);
                    return;
                default:
                    throw new InvalidOperationException($"recorded step {action.StepId} has unknown kind '{action.Kind}'");
            }
        }
        // The source ran out of budget (or was cancelled) without a submit: end now, so its final score is computed
        // over the same actions rather than after the re-execution idles to its deadline.
        await steps.SubmitAsync(ReplaySteps.StepIdFor(context.AttemptId, "end"), "", ct);
    }

    private async Task<RecordedActions> ReadAsync(Guid attemptId, Guid sourceId, string stepId, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync("GetRecordedActions", c => client.GetRecordedActionsAsync(new GetRecordedActionsRequest
            {
                AttemptId = attemptId.ToString(), SourceAttemptId = sourceId.ToString(), StepId = stepId,
            }, cancellationToken: c).ResponseAsync, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.PermissionDenied
                                         or StatusCode.InvalidArgument or StatusCode.DataLoss or StatusCode.ResourceExhausted)
        {
            throw new InvalidOperationException($"cannot read the recorded actions of attempt {sourceId}" +
                                                (stepId.Length > 0 ? $" (step {stepId})" : "") + $": {e.Status.Detail}");
        }
    }
}
