using Npgsql;
using ReBench.Audit;
using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Blobs;

/// <summary>A stored blob whose bytes no longer hash to its digest: reported, never served.</summary>
public sealed class BlobCorruptException(string sha256, string actual)
    : Exception($"blob {sha256} is corrupt: its stored bytes hash to {actual}")
{
    public string Sha256 { get; } = sha256;
}

/// <summary>
/// The content-addressed blob store in PostgreSQL (docs/audit.md, "Blobs"). Writes go into a Marten session's unit
/// of work (the same transaction as the events that reference them; insert is idempotent by digest); reads re-hash
/// the bytes, and a mismatch is an error naming the digest.
/// </summary>
public sealed class BlobStore(IDocumentStore store, AuditChain chain, IConfiguration config) : IBlobLookup, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(config.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured"));

    private string Table => BlobSchema.Qualified(store.Options.Events.DatabaseSchemaName);

    /// <summary>Queues the blobs the events reference into the session's transaction.</summary>
    public int Queue(IDocumentSession session, IEnumerable<object> events, PendingBlobs? pending)
    {
        if (pending is null || pending.Count == 0) return 0;
        var serializer = store.Options.Serializer();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            foreach (var r in BlobReferences.Of(chain.TypeName(e), serializer.ToJson(e)))
            {
                if (!written.Add(r.Sha256) || !pending.TryGet(r.Sha256, out var content)) continue;
                session.QueueSqlCommand($"insert into {Table} (sha256, size, content) values (?, ?, ?) on conflict (sha256) do nothing",
                    r.Sha256, (long)content.Length, content);
            }
        }
        return written.Count;
    }

    /// <summary>The stored bytes, unchecked, or null when absent (the caller must hash them).</summary>
    public async Task<byte[]?> ReadRawAsync(string sha256, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand($"select content from {Table} where sha256 = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = sha256 });
        return await cmd.ExecuteScalarAsync(ct) as byte[];
    }

    /// <summary>The blob's bytes after checking they hash to its digest; null when absent.</summary>
    public async Task<byte[]?> GetAsync(string sha256, CancellationToken ct)
    {
        var bytes = await ReadRawAsync(sha256, ct);
        if (bytes is null) return null;
        var actual = BlobReferences.Digest(bytes);
        return actual == sha256 ? bytes : throw new BlobCorruptException(sha256, actual);
    }

    /// <summary>
    /// For re-execution (RecordedContent): the stored bytes or null. RecordedContent re-hashes them itself and refuses
    /// a mismatch with a message naming the step, so they are not checked twice here.
    /// </summary>
    public Task<byte[]?> TryGetAsync(string sha256, CancellationToken ct) => ReadRawAsync(sha256.ToLowerInvariant(), ct);

    /// <summary>
    /// The streams with an event that references the blob (the references <see cref="BlobReferences.Of"/> finds: a
    /// top-level member named *BlobSha256, or ContentSha256), so that a read of the blob is attributed to the attempts
    /// whose content it is. strpos first keeps the jsonb walk to the few events that contain the digest at all; CASE
    /// keeps jsonb_each_text off a body that is not an object (PostgreSQL does not promise to evaluate AND in order).
    /// </summary>
    public async Task<IReadOnlyList<Guid>> ReferringStreamsAsync(string sha256, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var cmd = _db.CreateCommand(
            $"select distinct e.stream_id from \"{schema}\".mt_events e where strpos(e.data::text, $1) > 0 and " +
            "case when jsonb_typeof(e.data) = 'object' then exists (select 1 from jsonb_each_text(e.data) kv where kv.value = $1 " +
            "and (lower(kv.key) like '%blobsha256' or lower(kv.key) = 'contentsha256')) else false end");
        cmd.Parameters.Add(new NpgsqlParameter { Value = sha256 });
        var streams = new List<Guid>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) streams.Add(reader.GetGuid(0));
        return streams;
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
