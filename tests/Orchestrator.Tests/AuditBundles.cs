using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>Writes export bundles from the store the way `rebench export` does (events, then referenced blobs).</summary>
internal static class AuditBundles
{
    public static async Task WriteAttemptAsync(AuditFixtures f, Guid id, string path)
    {
        var (events, _) = await f.Get<AttemptAuditor>().ReadAsync(id, CancellationToken.None);
        await using var file = File.Create(path);
        Bundle.Write(file, "attempt", EventChain.StreamKey(id), Key(f), events, events[^1].Hash!, AuditFixtures.T0, await BlobsAsync(f, events));
    }

    public static async Task WriteCampaignAsync(AuditFixtures f, Guid campaignId, string path)
    {
        var events = await f.Get<CampaignAuditor>().ReadAsync(campaignId, CancellationToken.None);
        var attempts = new List<AttemptHistory>();
        var blobs = new Dictionary<string, byte[]>();
        foreach (var a in CampaignVerifier.AttemptIds(events[0].DataJson)!)
        {
            var (attemptEvents, _) = await f.Get<AttemptAuditor>().ReadAsync(Guid.Parse(a), CancellationToken.None);
            attempts.Add(new AttemptHistory(a, attemptEvents, attemptEvents.Count));
            foreach (var (k, v) in await BlobsAsync(f, attemptEvents)) blobs[k] = v;
        }
        await using var file = File.Create(path);
        Bundle.Write(file, "campaign", EventChain.StreamKey(campaignId), Key(f), events, events[^1].Hash!, AuditFixtures.T0, blobs, attempts);
    }

    private static BundleKey Key(AuditFixtures f)
    {
        var key = f.Get<PlatformKey>();
        return new BundleKey(Seals.Algorithm, key.KeyId, key.Signer.PublicKey);
    }

    private static async Task<Dictionary<string, byte[]>> BlobsAsync(AuditFixtures f, IEnumerable<StoredEvent> events)
    {
        var blobs = new Dictionary<string, byte[]>();
        foreach (var r in events.SelectMany(e => BlobReferences.Of(e.Type, e.DataJson)))
            blobs[r.Sha256] = (await f.Get<BlobStore>().GetAsync(r.Sha256, CancellationToken.None))!;
        return blobs;
    }
}
