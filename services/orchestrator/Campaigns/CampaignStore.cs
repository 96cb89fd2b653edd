using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.Campaigns;

namespace ReBench.Orchestrator.Campaigns;

public sealed class CampaignStore(IDocumentStore store, StreamStore streams, AuditChain audit, CampaignSealer sealer)
{
    public async Task<CampaignState?> TryLoadAsync(Guid id, CancellationToken ct) => (await LoadWithHeadAsync(id, ct)).State;

    /// <summary>The state and the chain link of the stream's last event, which the next append continues.</summary>
    private async Task<(CampaignState? State, string? Head)> LoadWithHeadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(id, token: ct);
        return events.Count == 0 ? (null, null) : (CampaignEvolver.Fold(events.Select(e => e.Data)), AuditChain.LinkOf(events[^1]));
    }

    /// <summary>The campaign stream and every attempt stream in one transaction: all of it exists, or none.</summary>
    public async Task CreateAsync(CampaignCreated created, IReadOnlyList<AttemptScheduled> attempts, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        audit.StartStream<CampaignState>(session, created.CampaignId, created);
        session.Store(new CampaignView { Id = created.CampaignId, Name = created.Name, CreatedAt = created.At, RequestId = created.RequestId });
        foreach (var a in attempts)
        {
            audit.StartStream<AttemptState>(session, a.AttemptId, a);
            session.Store(AttemptView.From(AttemptEvolver.Fold([a])));
        }
        await session.SaveChangesAsync(ct);
    }

    public Task AppendAsync(Guid id, Func<CampaignState, object[]> decide, CancellationToken ct) =>
        streams.AppendAsync<object?>(async (session, _, token) =>
        {
            var (loaded, head) = await LoadWithHeadAsync(id, token);
            var state = loaded ?? throw new DomainRejection(RejectionKind.NotFound, $"campaign {id} does not exist");
            var events = decide(state);
            if (events.Length == 0) return (false, null);
            if (state.Sealed) throw new DomainRejection(RejectionKind.FailedPrecondition, $"campaign {id} is sealed: nothing may be appended after its seal");
            // The event that completes the campaign is followed by its seal in the same transaction (docs/audit.md).
            var seal = await sealer.PrepareAsync(state, events, token);
            audit.Append(session, id, state.Version, head, events, seal);
            return (true, null);
        }, ct);
}
