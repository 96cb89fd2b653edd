using Npgsql;
using ReBench.Audit;

namespace ReBench.Orchestrator.Streams;

/// <summary>
/// Reads a stream's rows as stored, with plain SQL rather than Marten's deserializer, which would drop an unknown
/// field an intruder added or hide archived rows: what the hash chain is checked on (docs/audit.md).
/// </summary>
public sealed class StoredRows(IDocumentStore store, IConfiguration config) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(config.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured"));

    /// <summary>The stored events of any stream (an attempt's, a campaign's, a side stream's), in version order; empty when none.</summary>
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
                await reader.IsDBNullAsync(3, ct) ? null : reader.GetString(3), !await reader.IsDBNullAsync(4, ct) && reader.GetBoolean(4)));
        }
        return events;
    }

    /// <summary>
    /// The stored events of many streams in one query (a campaign's attempts, a report's rows), each in version
    /// order; a stream with no rows is absent from the result.
    /// </summary>
    public async Task<Dictionary<Guid, List<StoredEvent>>> ReadStreamsAsync(IReadOnlyCollection<Guid> streamIds, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var streams = new Dictionary<Guid, List<StoredEvent>>();
        if (streamIds.Count == 0) return streams;
        await using var cmd = _db.CreateCommand(
            $"select stream_id, version, type, data::text, headers ->> '{EventChain.HeaderName}', is_archived from \"{schema}\".mt_events " +
            "where stream_id = any($1) order by stream_id, version, seq_id");
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamIds.Distinct().ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var id = reader.GetGuid(0);
            if (!streams.TryGetValue(id, out var events)) streams[id] = events = [];
            events.Add(new StoredEvent(reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                await reader.IsDBNullAsync(4, ct) ? null : reader.GetString(4), !await reader.IsDBNullAsync(5, ct) && reader.GetBoolean(5)));
        }
        return streams;
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
