using ReBench.Agents.V1;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Scoring.V1;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// ReexecuteAttempt: checks that the ended attempt's task is still the same bundle, then records a new campaign with
/// one attempt of agent replay (source_attempt = the original, same task, variant and time budget) in one transaction.
/// The supervisor then starts it like any scheduled attempt.
/// </summary>
public sealed class AttemptReexecution(
    AttemptStore attempts,
    CampaignStore campaigns,
    Scoring.V1.Scoring.ScoringClient scoring,
    Agents.V1.Agents.AgentsClient agents,
    TimeProvider time)
{
    /// <summary>Returns the id of the re-execution attempt (the existing one when request_id was seen before).</summary>
    public async Task<Guid> ReexecuteAsync(Guid sourceId, string? requestId, string actor, CancellationToken ct)
    {
        var source = await attempts.TryLoadAsync(sourceId, ct);
        ReexecutionRules.CheckSource(source, sourceId);

        var campaignId = string.IsNullOrWhiteSpace(requestId) ? Guid.NewGuid() : IdFromRequest(requestId);
        if (!string.IsNullOrWhiteSpace(requestId) && await campaigns.TryLoadAsync(campaignId, ct) is { } existing)
            return existing.AttemptIds[0];

        TaskDescriptor task;
        try
        {
            task = await scoring.GetTaskAsync(new GetTaskRequest { TaskId = source!.TaskId, Variant = source.Variant }, cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"task {source!.TaskId} variant {source.Variant} of attempt {sourceId} is no longer in the catalog: {e.Status.Detail}");
        }
        ReexecutionRules.CheckBundle(source, task.BundleDigest);

        var known = await agents.ListAgentsAsync(new ListAgentsRequest(), cancellationToken: ct);
        if (known.Agents.All(a => a.Name != ReexecutionRules.ReplayAgent))
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"the agents service has no '{ReexecutionRules.ReplayAgent}' driver; known: {string.Join(", ", known.Agents.Select(a => a.Name))}");

        var (campaign, attempt) = ReexecutionRules.Plan(source, campaignId, Guid.NewGuid(),
            string.IsNullOrWhiteSpace(requestId) ? null : requestId, actor, time.GetUtcNow());
        await campaigns.CreateAsync(campaign, [attempt], ct);
        return attempt.AttemptId;
    }

    /// <summary>A retried ReexecuteAttempt with the same request id lands on the same campaign.</summary>
    private static Guid IdFromRequest(string requestId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes("rebench-reexecute:" + requestId)).AsSpan(0, 16));
}
