using Google.Protobuf;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Session;

/// <summary>
/// GetRecordedActions for the replay driver: the source attempt's agent steps in stream order (runs with the timeout
/// they ran with, file writes with their full content, agent score requests, the submit). Served on the session API,
/// so agents need no other route to the orchestrator, and scoped: an attempt reads only the attempt named by its own
/// recorded agent setting source_attempt, which whoever scheduled it chose.
/// </summary>
public sealed class RecordedActionsReader(AttemptStore attempts, IDocumentStore store, RecordedContent content)
{
    /// <summary>Write contents inlined in one list answer, in total; the rest are fetched one by one (step_id).</summary>
    public const long MaxInlineContentBytes = 1024 * 1024;

    public async Task<RecordedActions> ReadAsync(Guid attemptId, Guid sourceId, string? stepId, CancellationToken ct)
    {
        var attempt = await attempts.LoadAsync(attemptId, ct);
        var named = attempt.AgentSettings.GetValueOrDefault(ReexecutionRules.SourceSetting);
        if (!Guid.TryParse(named, out var allowed) || allowed != sourceId)
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"attempt {attemptId} may read only the actions of the attempt named by its agent setting " +
                $"'{ReexecutionRules.SourceSetting}' ({(string.IsNullOrEmpty(named) ? "not set" : named)}), not {sourceId}"));

        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(sourceId, token: ct);
        if (events.Count == 0) throw new DomainRejection(RejectionKind.NotFound, $"attempt {sourceId} does not exist");
        var source = AttemptEvolver.Fold(events.Select(e => e.Data));
        if (!source.IsTerminal)
            throw new DomainRejection(RejectionKind.FailedPrecondition, $"attempt {sourceId} has not ended; its actions are not final");

        var result = new RecordedActions { SourceAttemptId = sourceId.ToString() };
        if (!string.IsNullOrEmpty(stepId))
        {
            // One write's full content, for a write the list left out.
            var one = events.Select(e => e.Data).OfType<ActionRequested>().FirstOrDefault(r => r.StepId == stepId && r.Kind == "write_file")
                ?? throw new DomainRejection(RejectionKind.NotFound, $"attempt {sourceId} has no recorded file write with step id {stepId}");
            result.Actions.Add(await WriteAsync(sourceId, one, ct));
            return result;
        }
        long inlined = 0;
        foreach (var data in events.Select(e => e.Data))
        {
            switch (data)
            {
                case ActionRequested { Kind: "write_file" } w when inlined + w.ContentSize > MaxInlineContentBytes:
                    result.Actions.Add(new RecordedAction
                    {
                        StepId = w.StepId, Kind = "write_file", Path = w.Path ?? "", ContentSha256 = w.ContentSha256 ?? "", ContentOmitted = true,
                    });
                    break;
                case ActionRequested { Kind: "run" } r:
                    result.Actions.Add(new RecordedAction { StepId = r.StepId, Kind = "run", Command = r.Command ?? "", TimeoutSeconds = r.TimeoutSeconds });
                    break;
                case ActionRequested { Kind: "write_file" } w:
                    var write = await WriteAsync(sourceId, w, ct);
                    inlined += write.Content.Length;
                    result.Actions.Add(write);
                    break;
                // The orchestrator's own last score at the end is not an agent action: the re-execution gets its own.
                case ScoreRequested s when s.StepId != AttemptLifecycle.FinalStepId:
                    result.Actions.Add(new RecordedAction { StepId = s.StepId, Kind = "score" });
                    break;
                case SubmissionReceived s:
                    result.Actions.Add(new RecordedAction { StepId = s.StepId, Kind = "submit", Submission = s.Submission });
                    result.Submitted = true;
                    break;
            }
        }
        return result;
    }

    private async Task<RecordedAction> WriteAsync(Guid sourceId, ActionRequested w, CancellationToken ct)
    {
        var (bytes, from) = await content.ResolveAsync(sourceId, w, ct);
        return new RecordedAction
        {
            StepId = w.StepId, Kind = "write_file", Path = w.Path ?? "", Content = ByteString.CopyFrom(bytes),
            ContentSha256 = w.ContentSha256 ?? "", ContentSource = from,
        };
    }
}
