using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using JasperFx;
using JasperFx.Events;
using Marten;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Access;

/// <summary>
/// Records and lists reads of attempt transcripts. Each attempt has its own access-log stream whose id is derived
/// from the attempt id, so it is found without an index and never collides with an attempt or campaign stream.
/// The attempt stream itself is hash-chained and sealed; appending reads to it would break the seal.
/// </summary>
public sealed class AccessLog(IDocumentStore store, TimeProvider time)
{
    public const string DirectPrincipal = "api";
    private const int MaxConflictRetries = 10;

    /// <summary>A name-based UUID (RFC 9562 version 8) of SHA-256("rebench.access-log.v1:" + attempt id).</summary>
    public static Guid StreamId(Guid attemptId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("rebench.access-log.v1:" + attemptId.ToString("D")));
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }

    public async Task<bool> AttemptExistsAsync(Guid attemptId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<AttemptView>(attemptId, ct) is not null;
    }

    public async Task RecordAsync(Guid attemptId, string principal, string role, string method, string detail, CancellationToken ct)
    {
        var access = new TranscriptAccessed(attemptId, principal, role, method, detail, time.GetUtcNow());
        for (var tries = 1; ; tries++)
        {
            await using var session = store.LightweightSession();
            session.Events.Append(StreamId(attemptId), access);
            try
            {
                await session.SaveChangesAsync(ct);
                return;
            }
            catch (Exception e) when (tries < MaxConflictRetries && IsConflict(e))
            {
                // Two reads recorded at once: the loser appends again after the winner.
                await Task.Delay(Random.Shared.Next(1, 20), ct);
            }
        }
    }

    public async Task<ListAccessEventsResponse> ListAsync(Guid attemptId, CancellationToken ct)
    {
        if (!await AttemptExistsAsync(attemptId, ct)) throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(StreamId(attemptId), token: ct);
        var response = new ListAccessEventsResponse();
        foreach (var e in events)
        {
            if (e.Data is not TranscriptAccessed a) continue;
            response.Events.Add(new AccessEvent
            {
                Principal = a.Principal, Role = a.Role, Method = a.Method, AttemptId = a.AttemptId.ToString(),
                At = Timestamp.FromDateTimeOffset(a.At), Detail = a.Detail,
            });
        }
        return response;
    }

    private static bool IsConflict(Exception e) =>
        e is EventStreamUnexpectedMaxEventIdException or ConcurrencyException
        || e.InnerException is EventStreamUnexpectedMaxEventIdException or ConcurrencyException;
}
