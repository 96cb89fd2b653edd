using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// Verifies and exports attempts from the rows as stored (<see cref="StoredRows"/>: plain SQL, not Marten's
/// deserializer, which would drop an unknown field an intruder added or hide archived rows).
/// </summary>
public sealed class AttemptAuditor(IDocumentStore store, PlatformKey key, Blobs.BlobStore blobs, StoredRows rows)
{
    public PlatformKey Key => key;

    /// <summary>The attempt's stored events in version order, or NotFound when it has neither events nor a view.</summary>
    public async Task<(IReadOnlyList<StoredEvent> Events, AttemptView? View)> ReadAsync(Guid attemptId, CancellationToken ct)
    {
        var events = await rows.ReadStreamAsync(attemptId, ct);
        await using var session = store.QuerySession();
        var view = await session.LoadAsync<AttemptView>(attemptId, ct);
        if (events.Count == 0 && view is null) throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        return (events, view);
    }

    /// <summary>
    /// Chain, seal, event count (the view is written with every append, so a removed tail shows) and every blob the
    /// verified events reference (present, bytes hash to the digest, size as recorded).
    /// </summary>
    public async Task<ChainReport> VerifyAsync(Guid attemptId, CancellationToken ct)
    {
        var (events, view) = await ReadAsync(attemptId, ct);
        var chain = ChainVerifier.Verify(EventChain.StreamKey(attemptId), events, key.Trusted, view?.Version);
        return chain.WithBlobs(await BlobReferences.CheckAsync(chain.Verified(events), blobs.ReadRawAsync, ct));
    }
}
