using ReBench.Audit;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench export`: an attempt's (or a campaign's and all its attempts') stored events, the blobs they reference,
/// the public key and a manifest, in one offline-verifiable zip (docs/audit.md, "Export bundle").
/// </summary>
internal static class AuditExport
{
    public static async Task<int> ExportAsync(PlatformClient client, string? attemptId, string? campaignId, FileInfo file, CancellationToken ct)
    {
        var key = (await client.Audit.GetPublicKeyAsync(new GetPublicKeyRequest(), cancellationToken: ct)).Current;
        var bundleKey = new BundleKey(key.Algorithm, key.KeyId, key.PublicKey_.ToByteArray());
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var missing = new List<string>();
        if (campaignId is not null)
        {
            var id = Canonical(campaignId);
            var events = await ReadAsync(client.Audit.ExportCampaign(new ExportCampaignRequest { CampaignId = id }, cancellationToken: ct), ct);
            var attempts = new List<AttemptHistory>();
            var corrections = new List<CorrectionsHistory>();
            foreach (var attempt in events.Count > 0 ? CampaignVerifier.AttemptIds(events[0].DataJson) ?? [] : [])
            {
                var attemptEvents = await ReadAsync(client.Audit.ExportAttempt(new ExportAttemptRequest { AttemptId = attempt }, cancellationToken: ct), ct);
                attempts.Add(new AttemptHistory(attempt, attemptEvents, attemptEvents.Count));
                await FetchBlobsAsync(client, attemptEvents, blobs, missing, ct);
                if (await CorrectionsAsync(client, attempt, ct) is { } c) corrections.Add(c);
            }
            await using (var f = File.Create(file.FullName))
                Bundle.Write(f, "campaign", id, bundleKey, events, events.LastOrDefault()?.Hash ?? "", DateTimeOffset.UtcNow, blobs, attempts, corrections);
            Console.WriteLine($"wrote {file.FullName}: campaign {id}: {events.Count} events, {attempts.Count} attempts " +
                              $"({attempts.Sum(a => a.Events.Count)} events), {blobs.Count} blobs, " +
                              $"{corrections.Sum(c => c.Events.Count)} corrections, public key {key.KeyId}");
        }
        else
        {
            var id = Canonical(attemptId!);
            var events = await ReadAsync(client.Audit.ExportAttempt(new ExportAttemptRequest { AttemptId = id }, cancellationToken: ct), ct);
            await FetchBlobsAsync(client, events, blobs, missing, ct);
            var corrections = await CorrectionsAsync(client, id, ct) is { } c ? new[] { c } : [];
            await using (var f = File.Create(file.FullName))
                Bundle.Write(f, "attempt", id, bundleKey, events, events.LastOrDefault()?.Hash ?? "", DateTimeOffset.UtcNow, blobs, corrections: corrections);
            Console.WriteLine($"wrote {file.FullName}: {events.Count} events of attempt {id}, {blobs.Count} blobs, " +
                              $"{corrections.Sum(x => x.Events.Count)} corrections, public key {key.KeyId}");
        }
        foreach (var m in missing) await Console.Error.WriteLineAsync($"warning: {m}");
        // A blob the platform could not serve is left out; the bundle then fails offline verification there.
        return missing.Count == 0 ? AuditCommands.Verified : AuditCommands.Broken;
    }

    /// <summary>The attempt's corrections stream as stored, or null when it has none.</summary>
    private static async Task<CorrectionsHistory?> CorrectionsAsync(PlatformClient client, string attemptId, CancellationToken ct)
    {
        var events = await ReadAsync(client.Audit.ExportCorrections(new ExportCorrectionsRequest { AttemptId = attemptId }, cancellationToken: ct), ct);
        return events.Count == 0
            ? null
            : new CorrectionsHistory(attemptId, EventChain.StreamKey(CorrectionStreams.StreamId(Guid.Parse(attemptId))), events, events.Count);
    }

    // The chain names a stream by its canonical id form (lower-case, hyphenated).
    private static string Canonical(string id) => Guid.TryParse(id, out var g) ? g.ToString("D") : id;

    private static async Task<List<Audit.StoredEvent>> ReadAsync(AsyncServerStreamingCall<Orchestrator.V1.StoredEvent> call, CancellationToken ct)
    {
        using (call)
        {
            var events = new List<Audit.StoredEvent>();
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                events.Add(new Audit.StoredEvent(e.Version, e.EventType, e.DataJson, e.ChainHash is { Length: > 0 } h ? h : null, e.Archived));
            return events;
        }
    }

    private static async Task FetchBlobsAsync(PlatformClient client, IEnumerable<Audit.StoredEvent> events, Dictionary<string, byte[]> blobs, List<string> missing, CancellationToken ct)
    {
        foreach (var e in events)
        {
            List<BlobRef> refs;
            try { refs = BlobReferences.Of(e.Type, e.DataJson); }
            catch (System.Text.Json.JsonException) { continue; }
            foreach (var r in refs.Where(r => BlobReferences.IsDigest(r.Sha256) && !blobs.ContainsKey(r.Sha256)))
            {
                try
                {
                    blobs[r.Sha256] = (await client.Audit.GetBlobAsync(new GetBlobRequest { Sha256 = r.Sha256 }, cancellationToken: ct)).Content.ToByteArray();
                }
                catch (RpcException x) when (x.StatusCode is StatusCode.NotFound or StatusCode.DataLoss)
                {
                    missing.Add($"blob {r.Sha256} (event {e.Version}) left out: {x.Status.Detail}");
                }
            }
        }
    }
}
