using Google.Protobuf;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Access;

/// <summary>One attempt whose content a call reads, and what else identifies the read (a blob digest, a campaign).</summary>
public sealed record AccessTarget(Guid AttemptId, string Detail);

/// <summary>
/// Which gRPC methods read an attempt's content, and which attempts each call reads. Every such read is an access
/// event on the attempt (<see cref="AccessLog"/>), whatever it reads it through:
/// <list type="bullet">
/// <item>by attempt id: ReadAttemptEvents, WatchAttempt, ExportAttempt, VerifyAttempt (it reads every event and
/// blob to check them), ReexecuteAttempt (it replays the attempt's recorded actions), ScoreLog, HumanScoreLog,
/// GetStepHistory (the transcript of the attempt's steps);</item>
/// <item>GetRecordedActions: the source attempt, whose actions are read (the detail names the replaying attempt);</item>
/// <item>GetBlob: a blob has no attempt of its own, so the read is recorded on every attempt with an event that
/// references the blob (a written file, a model request or response), found by digest;</item>
/// <item>VerifyCampaign, ExportCampaign: one event per attempt of the campaign, on each attempt's own access log,
/// rather than one campaign-level event: `rebench audit access &lt;attempt&gt;` then shows every read of the
/// attempt without searching campaign logs, and each event sits in a chain that is already verified.</item>
/// </list>
/// Not recorded: GetAttempt and ListAttempts return the summary (status, scores, cost, provenance), never the
/// transcript, commands, outputs, files or model messages, and are polled by every watcher; ListAccessEvents and
/// the corrections read the audit trail about an attempt, not the attempt's content.
/// </summary>
public sealed class AccessTargets(IDocumentStore store, Blobs.BlobStore blobs)
{
    private delegate Task<IReadOnlyList<AccessTarget>> Resolver(AccessTargets self, IMessage request, CancellationToken ct);

    private static readonly Dictionary<string, Resolver> ByMethod = new(StringComparer.Ordinal)
    {
        [Path(V1.Attempts.Descriptor, "ReadAttemptEvents")] = ByAttempt("from_version"),
        [Path(V1.Attempts.Descriptor, "WatchAttempt")] = ByAttempt("from_version"),
        [Path(V1.Attempts.Descriptor, "ReexecuteAttempt")] = ByAttempt(),
        [Path(V1.Audit.Descriptor, "ExportAttempt")] = ByAttempt(),
        [Path(V1.Audit.Descriptor, "VerifyAttempt")] = ByAttempt(),
        [Path(V1.Audit.Descriptor, "GetBlob")] = (self, r, ct) => self.ByBlobAsync(((GetBlobRequest)r).Sha256, ct),
        [Path(V1.Audit.Descriptor, "VerifyCampaign")] = (self, r, ct) => self.ByCampaignAsync(((VerifyCampaignRequest)r).CampaignId, ct),
        [Path(V1.Audit.Descriptor, "ExportCampaign")] = (self, r, ct) => self.ByCampaignAsync(((ExportCampaignRequest)r).CampaignId, ct),
        [Path(V1.HumanBaselines.Descriptor, "HumanScoreLog")] = ByAttempt(),
        [Path(V1.AttemptSession.Descriptor, "ScoreLog")] = ByAttempt(),
        [Path(V1.AttemptSession.Descriptor, "GetStepHistory")] = ByAttempt("from_index"),
        [Path(V1.AttemptSession.Descriptor, "GetRecordedActions")] = (self, r, ct) =>
        {
            var g = (GetRecordedActionsRequest)r;
            var detail = Details(("for_attempt", g.AttemptId), ("step_id", g.StepId));
            return self.ExistingAsync(Guid.TryParse(g.SourceAttemptId, out var id) ? [new AccessTarget(id, detail)] : [], ct);
        },
    };

    /// <summary>The full gRPC paths of the methods that read an attempt's content.</summary>
    public static IReadOnlyCollection<string> Methods => ByMethod.Keys;

    /// <summary>
    /// The attempts <paramref name="request"/> reads through <paramref name="method"/> (a full gRPC path); empty for
    /// a method that reads none, and for a request the method itself will refuse (a malformed or unknown id, a digest
    /// no attempt references): those are answered INVALID_ARGUMENT or NOT_FOUND by the method, with its own message.
    /// </summary>
    public Task<IReadOnlyList<AccessTarget>> ResolveAsync(string method, object request, CancellationToken ct) =>
        ByMethod.TryGetValue(method, out var resolve) && request is IMessage message
            ? resolve(this, message, ct)
            : Task.FromResult<IReadOnlyList<AccessTarget>>([]);

    private static string Path(Google.Protobuf.Reflection.ServiceDescriptor service, string method) =>
        $"/{service.FullName}/{service.FindMethodByName(method)?.Name ?? throw new InvalidOperationException($"{service.FullName} has no method {method}")}";

    private static Resolver ByAttempt(params string[] detailFields) => (self, r, ct) =>
    {
        var detail = Details(detailFields.Select(f => (f, Field(r, f))).ToArray());
        return self.ExistingAsync(Guid.TryParse(Field(r, "attempt_id"), out var id) ? [new AccessTarget(id, detail)] : [], ct);
    };

    private async Task<IReadOnlyList<AccessTarget>> ByBlobAsync(string sha256, CancellationToken ct)
    {
        var digest = (sha256 ?? "").Trim().ToLowerInvariant();
        if (!ReBench.Audit.BlobReferences.IsDigest(digest)) return [];
        var streams = await blobs.ReferringStreamsAsync(digest, ct);
        // Only attempt streams: a campaign or side stream naming the digest is not an attempt's content.
        return await ExistingAsync(streams.Select(s => new AccessTarget(s, $"sha256={digest}")).ToList(), ct);
    }

    private async Task<IReadOnlyList<AccessTarget>> ByCampaignAsync(string campaignId, CancellationToken ct)
    {
        if (!Guid.TryParse(campaignId, out var id)) return [];
        await using var session = store.QuerySession();
        var attempts = await session.Query<AttemptView>().Where(a => a.CampaignId == id).Select(a => a.Id).ToListAsync(ct);
        return attempts.OrderBy(a => a).Select(a => new AccessTarget(a, $"campaign={id}")).ToList();
    }

    private async Task<IReadOnlyList<AccessTarget>> ExistingAsync(IReadOnlyList<AccessTarget> targets, CancellationToken ct)
    {
        if (targets.Count == 0) return targets;
        await using var session = store.QuerySession();
        var ids = targets.Select(t => t.AttemptId).Distinct().ToArray();
        var found = (await session.LoadManyAsync<AttemptView>(ct, ids)).Select(v => v.Id).ToHashSet();
        return targets.Where(t => found.Contains(t.AttemptId)).ToList();
    }

    private static string Details(params (string Name, string? Value)[] fields) =>
        string.Join(" ", fields.Where(f => f.Value is { Length: > 0 } and not "0").Select(f => $"{f.Name}={Guard.Quote(f.Value, 80)}"));

    private static string? Field(IMessage message, string name) =>
        message.Descriptor.FindFieldByName(name) is { IsRepeated: false } field
        && field.FieldType is Google.Protobuf.Reflection.FieldType.String or Google.Protobuf.Reflection.FieldType.Int64 or Google.Protobuf.Reflection.FieldType.Int32
            ? field.Accessor.GetValue(message)?.ToString()
            : null;
}
