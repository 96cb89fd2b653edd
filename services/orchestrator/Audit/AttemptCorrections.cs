using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// Stored event (type name attempt_correction_recorded; schema, see AttemptEvents.cs): a correction of an attempt's
/// record, with who made it and why. Kept in the attempt's corrections stream (<see cref="AttemptCorrections.StreamId"/>),
/// never in the attempt stream, which is sealed once the attempt ends and is never rewritten.
/// </summary>
public sealed record AttemptCorrectionRecorded(Guid AttemptId, string Kind, string Reason, string Detail, string Actor, string Role, DateTimeOffset At);

/// <summary>Marker aggregate type of corrections streams (mt_streams.type).</summary>
public sealed class AttemptCorrectionLog;

/// <summary>
/// Records and lists corrections. History-rewriting features stay off (docs/audit.md); a correction is a new event,
/// linked into its own hash chain like attempt and campaign streams, so removing or editing one is detected.
/// </summary>
public sealed partial class AttemptCorrections(IDocumentStore store, StreamStore streams, AuditChain chain, StoredRows stored, PlatformKey key, TimeProvider time)
{
    public const int MaxReason = 2000, MaxDetail = 8000;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex KindPattern();

    /// <summary>The attempt's corrections stream id (<see cref="CorrectionStreams.StreamId"/>).</summary>
    public static Guid StreamId(Guid attemptId) => CorrectionStreams.StreamId(attemptId);

    public async Task<Correction> RecordAsync(Guid attemptId, string kind, string reason, string detail, string actor, string role, CancellationToken ct)
    {
        kind = (kind ?? "").Trim();
        reason = (reason ?? "").Trim();
        detail ??= "";
        if (!KindPattern().IsMatch(kind))
            throw new DomainRejection(RejectionKind.InvalidArgument, $"kind must be lower-case snake_case (a-z, 0-9, _; at most 64), got '{kind}'");
        if (reason.Length == 0) throw new DomainRejection(RejectionKind.InvalidArgument, "reason is required: a correction says why");
        if (reason.Length > MaxReason) throw new DomainRejection(RejectionKind.InvalidArgument, $"reason is {reason.Length} characters, at most {MaxReason}");
        if (detail.Length > MaxDetail) throw new DomainRejection(RejectionKind.InvalidArgument, $"detail is {detail.Length} characters, at most {MaxDetail}");
        await using (var query = store.QuerySession())
        {
            if (await query.LoadAsync<AttemptView>(attemptId, ct) is null)
                throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        }
        var e = new AttemptCorrectionRecorded(attemptId, kind, reason, detail, actor, role, time.GetUtcNow());
        return Proto(e, await ChainedSideStream.AppendAsync<AttemptCorrectionLog>(streams, chain, StreamId(attemptId), e, ct));
    }

    /// <summary>The corrections stream's rows as stored, oldest first, and its recorded count; NotFound for an unknown attempt.</summary>
    public async Task<(IReadOnlyList<ReBench.Audit.StoredEvent> Rows, long Recorded)> ReadStoredAsync(Guid attemptId, CancellationToken ct)
    {
        await using (var query = store.QuerySession())
        {
            if (await query.LoadAsync<AttemptView>(attemptId, ct) is null)
                throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
        }
        return await ChainedSideStream.ReadAsync(store, stored, StreamId(attemptId), ct);
    }

    public async Task<ListCorrectionsResponse> ListAsync(Guid attemptId, CancellationToken ct)
    {
        var (rows, recorded) = await ReadStoredAsync(attemptId, ct);
        var response = new ListCorrectionsResponse { ChainOk = true };
        if (rows.Count > 0 || recorded > 0)
        {
            var r = CorrectionStreams.Verify(new CorrectionsHistory(attemptId.ToString("D"), EventChain.StreamKey(StreamId(attemptId)), rows, recorded),
                key.Trusted);
            response.ChainOk = r.Ok;
            response.Problem = r.Problem ?? "";
        }
        foreach (var row in rows) response.Corrections.Add(Proto(ChainedSideStream.Decode<AttemptCorrectionRecorded>(store, row), row.Version));
        return response;
    }

    private static Correction Proto(AttemptCorrectionRecorded e, long number) => new()
    {
        // A row edited in the database may lack members: list it anyway (the chain check reports the edit).
        AttemptId = e.AttemptId.ToString(), Number = number, Kind = e.Kind ?? "", Reason = e.Reason ?? "", Detail = e.Detail ?? "",
        Actor = e.Actor ?? "", Role = e.Role ?? "", At = Timestamp.FromDateTimeOffset(e.At),
    };
}
