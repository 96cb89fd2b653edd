using ReBench.Audit;

namespace ReBench.Orchestrator.Streams;

/// <summary>
/// Appends to the chained, never sealed streams kept beside an attempt (corrections, the access log): each event is
/// linked onto the stream's head like attempt and campaign events (docs/audit.md), so an edited, removed or reordered
/// one is found. Writers race (two reads recorded at once): the loser links onto the winner's head and tries again,
/// under <see cref="StreamStore"/>'s retry policy like every other stream.
/// </summary>
public static class ChainedSideStream
{
    /// <summary>Appends <paramref name="e"/> and returns its 1-based number in the stream.</summary>
    public static Task<long> AppendAsync<TMarker>(StreamStore streams, AuditChain chain, Guid stream, object e, CancellationToken ct)
        where TMarker : class =>
        streams.AppendAsync(async (session, _, token) =>
        {
            var state = await session.Events.FetchStreamStateAsync(stream, token);
            long number;
            if (state is null)
            {
                chain.StartStream<TMarker>(session, stream, e);
                number = 1;
            }
            else
            {
                // Only the head is needed, not the whole stream: a long access log stays cheap to append to.
                var head = (await session.Events.FetchStreamAsync(stream, fromVersion: state.Version, token: token)).SingleOrDefault(x => x.Version == state.Version)
                    // The stream records N events but event N is gone (the database was edited): link onto the last
                    // one still there and go on recording, so the check keeps reporting the gap where it is and reads
                    // stay possible (they are refused when they cannot be recorded).
                    ?? ((await session.Events.FetchStreamAsync(stream, token: token)) is [.., var last] ? last : null);
                chain.Append(session, stream, state.Version, head is null ? null : AuditChain.LinkOf(head), [e], seal: false);
                number = state.Version + 1;
            }
            return (true, number);
        }, ct);

    /// <summary>
    /// The stream's rows as stored (plain SQL: what its chain is checked on) and the number of events the stream
    /// records for itself in mt_streams, so that a removed newest event shows as a shortfall.
    /// </summary>
    public static async Task<(IReadOnlyList<StoredEvent> Rows, long Recorded)> ReadAsync(IDocumentStore store, StoredRows stored, Guid stream,
        CancellationToken ct)
    {
        var rows = await stored.ReadStreamAsync(stream, ct);
        await using var query = store.QuerySession();
        return (rows, (await query.Events.FetchStreamStateAsync(stream, ct))?.Version ?? 0);
    }

    /// <summary>A row's body as its event type (a row edited in the database may lack members: they stay default).</summary>
    public static T Decode<T>(IDocumentStore store, StoredEvent row) =>
        store.Options.Serializer().FromJson<T>(new MemoryStream(Encoding.UTF8.GetBytes(row.DataJson)));
}
