using Marten;
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

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
