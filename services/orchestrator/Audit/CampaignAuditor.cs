using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Audit;

/// <summary>Verifies a campaign from the rows as stored (docs/audit.md, "Campaign seals"): its stream and every attempt.</summary>
public sealed class CampaignAuditor(IDocumentStore store, AttemptAuditor attempts, StoredRows rows, PlatformKey key, Blobs.BlobStore blobs)
{
    /// <summary>The campaign stream's stored events, or NotFound when the campaign does not exist.</summary>
    public async Task<List<StoredEvent>> ReadAsync(Guid campaignId, CancellationToken ct)
    {
        var events = await rows.ReadStreamAsync(campaignId, ct);
        if (events.Count > 0) return events;
        await using var session = store.QuerySession();
        return await session.LoadAsync<CampaignView>(campaignId, ct) is null
            ? throw new DomainRejection(RejectionKind.NotFound, $"campaign {campaignId} does not exist")
            : events;
    }

    public async Task<CampaignReport> VerifyAsync(Guid campaignId, CancellationToken ct)
    {
        var events = await ReadAsync(campaignId, ct);
        return await CampaignVerifier.VerifyAsync(EventChain.StreamKey(campaignId), events, null, key.Trusted, LoadAttemptAsync, blobs.ReadRawAsync, ct);
    }

    private async Task<AttemptHistory?> LoadAttemptAsync(string attemptId, CancellationToken ct)
    {
        if (!Guid.TryParse(attemptId, out var id)) return null;
        try
        {
            var (events, view) = await attempts.ReadAsync(id, ct);
            return new AttemptHistory(attemptId, events, view?.Version);
        }
        catch (DomainRejection e) when (e.Kind == RejectionKind.NotFound) { return null; }
    }
}
