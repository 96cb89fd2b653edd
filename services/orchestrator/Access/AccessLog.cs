using Google.Protobuf.WellKnownTypes;
using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Access;

/// <summary>
/// Records and lists reads of attempt transcripts. Each attempt has its own access-log stream whose id is derived
/// from the attempt id, so it is found without an index and never collides with an attempt or campaign stream.
/// The attempt stream itself is hash-chained and sealed; appending reads to it would break the seal. The access-log
/// stream is hash-chained too (never sealed: reads go on after the attempt ends), so an edited or removed read is found.
/// </summary>
public sealed class AccessLog(IDocumentStore store, StreamStore streams, AuditChain chain, StoredRows stored, PlatformKey key, TimeProvider time)
{
    public const string DirectPrincipal = CallerIdentity.DirectPrincipal;
    private static readonly IReadOnlySet<string> NoTerminalTypes = new HashSet<string>();

    /// <summary>A name-based UUID (RFC 9562 version 8) of SHA-256("rebench.access-log.v1:" + attempt id).</summary>
    public static Guid StreamId(Guid attemptId) => DerivedStreamIds.Of("rebench.access-log.v1", attemptId);

    public async Task<bool> AttemptExistsAsync(Guid attemptId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<AttemptView>(attemptId, ct) is not null;
    }

    public Task RecordAsync(Guid attemptId, string principal, string role, string method, string detail, CancellationToken ct) =>
        ChainedSideStream.AppendAsync<TranscriptAccessLog>(streams, chain,
            StreamId(attemptId), new TranscriptAccessed(attemptId, principal, role, method, detail, time.GetUtcNow()), ct);

    public async Task<ListAccessEventsResponse> ListAsync(Guid attemptId, CancellationToken ct)
    {
        if (!await AttemptExistsAsync(attemptId, ct)) throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        var (rows, recorded) = await ChainedSideStream.ReadAsync(store, stored, StreamId(attemptId), ct);
        var response = new ListAccessEventsResponse { ChainOk = true };
        if (rows.Count > 0 || recorded > 0)
        {
            // Like a campaign stream: chain only, no seal, no terminal event.
            var r = ChainVerifier.Verify(EventChain.StreamKey(StreamId(attemptId)), rows, key.Trusted, recorded, NoTerminalTypes);
            response.ChainOk = r.Ok;
            response.Problem = r.Problem ?? "";
        }
        foreach (var row in rows)
        {
            var a = ChainedSideStream.Decode<TranscriptAccessed>(store, row);
            response.Events.Add(new AccessEvent
            {
                Principal = a.Principal ?? "", Role = a.Role ?? "", Method = a.Method ?? "", AttemptId = a.AttemptId.ToString(),
                At = Timestamp.FromDateTimeOffset(a.At), Detail = a.Detail ?? "",
            });
        }
        return response;
    }
}

/// <summary>Marker aggregate type of access-log streams (mt_streams.type).</summary>
public sealed class TranscriptAccessLog;
