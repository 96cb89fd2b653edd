using Marten.Linq.MatchesSql;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;
using static ReBench.Orchestrator.Grpc.ApiCalls;

namespace ReBench.Orchestrator.Grpc;

/// <summary>gRPC adapter of the public Attempts service: read, list, follow, cancel and re-execute attempts.</summary>
public sealed class AttemptsGrpc(
    IDocumentStore store,
    AttemptEventReader events,
    AttemptLifecycle lifecycle,
    AttemptReexecution reexecution) : V1.Attempts.AttemptsBase
{
    private const string PageKind = "attempts";

    public override Task<Attempt> GetAttempt(GetAttemptRequest request, ServerCallContext context) =>
        LoadAsync(AttemptId(request.AttemptId), context.CancellationToken);

    /// <summary>Newest first, keyset-paged by (scheduled_at, id) (<see cref="PageToken"/>).</summary>
    public override async Task<ListAttemptsResponse> ListAttempts(ListAttemptsRequest request, ServerCallContext context)
    {
        var size = PageToken.Size(request.PageSize);
        var after = PageToken.Decode(request.PageToken, PageKind);
        await using var session = store.QuerySession();
        IQueryable<AttemptView> q = session.Query<AttemptView>();
        if (!string.IsNullOrEmpty(request.CampaignId))
        {
            var campaignId = CampaignId(request.CampaignId);
            q = q.Where(a => a.CampaignId == campaignId);
        }
        // Checked before PostgreSQL sees them: it refuses a NUL in text with an error that names the SQL.
        var taskId = Guard.Text(request.TaskId, "task_id", 200);
        var agent = Guard.Text(request.Agent, "agent", 200);
        if (!string.IsNullOrEmpty(taskId)) q = q.Where(a => a.TaskId == taskId);
        if (!string.IsNullOrEmpty(agent)) q = q.Where(a => a.Agent == agent);
        if (request.Status != AttemptStatus.Unspecified)
        {
            if (!Enum.IsDefined(request.Status)) throw Guard.Invalid($"status {(int)request.Status} is not a known attempt status");
            var phases = Mapping.ToPhases(request.Status);
            q = q.Where(a => phases.Contains(a.Phase));
        }
        if (after is not null) q = q.Where(a => a.MatchesSql(After("ScheduledAt"), Iso(after.At), after.Id));
        var views = await q.OrderByDescending(a => a.ScheduledAt).ThenByDescending(a => a.Id).Take(size + 1).ToListAsync(context.CancellationToken);
        var response = new ListAttemptsResponse();
        response.Attempts.AddRange(views.Take(size).Select(v => v.ToProto()));
        if (views.Count > size) response.NextPageToken = new PageToken(views[size - 1].ScheduledAt, views[size - 1].Id).Encode(PageKind);
        return response;
    }

    public override Task WatchAttempt(WatchAttemptRequest request, IServerStreamWriter<AttemptEvent> responseStream, ServerCallContext context) =>
        events.StreamAsync(AttemptId(request.AttemptId), FromVersion(request.FromVersion), follow: true, responseStream, context.CancellationToken);

    public override Task ReadAttemptEvents(ReadAttemptEventsRequest request, IServerStreamWriter<AttemptEvent> responseStream, ServerCallContext context) =>
        events.StreamAsync(AttemptId(request.AttemptId), FromVersion(request.FromVersion), follow: false, responseStream, context.CancellationToken);

    public override async Task<Attempt> CancelAttempt(CancelAttemptRequest request, ServerCallContext context)
    {
        var id = AttemptId(request.AttemptId);
        await lifecycle.CancelAsync(id, request.Reason, Caller(context), context.CancellationToken);
        return await LoadAsync(id, context.CancellationToken);
    }

    public override async Task<Attempt> ReexecuteAttempt(ReexecuteAttemptRequest request, ServerCallContext context)
    {
        var id = await reexecution.ReexecuteAsync(AttemptId(request.AttemptId), request.RequestId, Caller(context), context.CancellationToken);
        return await LoadAsync(id, context.CancellationToken);
    }

    private async Task<Attempt> LoadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var view = await session.LoadAsync<AttemptView>(id, ct) ?? throw Guard.NotFound($"attempt {id} does not exist");
        var attempt = view.ToProto();
        if (view.StartedAt is not null && await ProvenanceMapping.LoadAsync(store, id, view.TaskId, ct) is { } provenance)
            attempt.Provenance = provenance;
        return attempt;
    }
}
