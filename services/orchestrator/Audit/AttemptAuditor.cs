using Marten;
using Npgsql;
using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// Verifies and exports attempts from the rows as stored. It reads mt_events with plain SQL, not through Marten's
/// deserializer, which would drop an unknown field an intruder added or hide archived rows.
/// </summary>
public sealed class AttemptAuditor(IDocumentStore store, PlatformKey key, Blobs.BlobStore blobs, IConfiguration config) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(config.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured"));

    public PlatformKey Key => key;

    /// <summary>The attempt's stored events in version order, or NotFound when it has neither events nor a view.</summary>
    public async Task<(IReadOnlyList<StoredEvent> Events, AttemptView? View)> ReadAsync(Guid attemptId, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var events = new List<StoredEvent>();
        await using (var cmd = _db.CreateCommand(
            $"select version, type, data::text, headers ->> '{EventChain.HeaderName}', is_archived from \"{schema}\".mt_events " +
            "where stream_id = $1 order by version, seq_id"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = attemptId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                events.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), !reader.IsDBNull(4) && reader.GetBoolean(4)));
            }
        }
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

    /// <summary>The stored events of any stream (an attempt's or a campaign's), in version order; empty when none.</summary>
    public async Task<List<StoredEvent>> ReadStreamAsync(Guid streamId, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var events = new List<StoredEvent>();
        await using var cmd = _db.CreateCommand(
            $"select version, type, data::text, headers ->> '{EventChain.HeaderName}', is_archived from \"{schema}\".mt_events " +
            "where stream_id = $1 order by version, seq_id");
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            events.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), !reader.IsDBNull(4) && reader.GetBoolean(4)));
        }
        return events;
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
