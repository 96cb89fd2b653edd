using System.Collections.Concurrent;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Storage;

/// <summary>
/// Loads an attempt by folding its stream and appends decided events with optimistic concurrency, together with
/// the attempt's view, in one transaction. A concurrent writer makes the append retry against the new state.
/// </summary>
public sealed class AttemptStore(IDocumentStore store, StreamStore streams, AuditChain audit, Blobs.BlobStore blobs)
{
    // Folded states by attempt. A load reads only the events after the cached version, so a long attempt is
    // not refolded from its first event on every step; the database stays the source of truth.
    private readonly ConcurrentDictionary<Guid, AttemptState> _cache = new();

    public async Task<AttemptState?> TryLoadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var cached = _cache.GetValueOrDefault(id);
        var events = await session.Events.FetchStreamAsync(id, fromVersion: (cached?.Version ?? 0) + 1, token: ct);
        if (cached is null && events.Count == 0) return null;
        var state = AttemptEvolver.Fold(events.Select(e => e.Data), cached);
        if (events.Count > 0) state = state with { ChainHead = AuditChain.LinkOf(events[^1]) };
        Remember(state);
        return state;
    }

    /// <summary>The attempt as this process last loaded or wrote it, without a database read; null when not seen yet.</summary>
    public AttemptState? Known(Guid id) => _cache.GetValueOrDefault(id);

    private void Remember(AttemptState state) =>
        _cache.AddOrUpdate(state.Id, state, (_, old) => old.Version >= state.Version ? old : state);

    public async Task<AttemptState> LoadAsync(Guid id, CancellationToken ct) =>
        await TryLoadAsync(id, ct) ?? throw new DomainRejection(RejectionKind.NotFound, $"attempt {id} does not exist");

    /// <summary>
    /// Decides on the cached state (optimistically: a stale cache fails the append's version check, and the retry
    /// reads what it missed) and appends the events with the attempt's view in one transaction.
    /// </summary>
    public async Task<AttemptState> AppendAsync(Guid id, Func<AttemptState, object[]> decide, CancellationToken ct, Blobs.PendingBlobs? pending = null)
    {
        var next = await streams.AppendAsync<AttemptState>(async (session, tries, token) =>
        {
            var state = tries == 1 && _cache.TryGetValue(id, out var cached) ? cached : await LoadAsync(id, token);
            var events = decide(state);
            if (events.Length == 0) return (false, state);
            var next = AttemptEvolver.Fold(events, state);
            // Each event is linked into the hash chain; the event that ends the attempt is sealed in the same
            // transaction, so no ended attempt is ever unsealed, whatever crashes (docs/audit.md).
            var (appended, head) = audit.Append(session, id, state.Version, state.ChainHead, events, seal: !state.IsTerminal && next.IsTerminal);
            if (appended.Length > events.Length) next = AttemptEvolver.Fold(appended[events.Length..], next);
            next = next with { ChainHead = head };
            // Payloads the appended events reference go into the same transaction (docs/audit.md, "Blobs").
            blobs.Queue(session, appended, pending);
            session.Store(AttemptView.From(next));
            return (true, next);
        }, ct);
        Remember(next);
        return next;
    }
}
