using System.Text.Json;

namespace ReBench.Audit;

/// <summary>An attempt's stored events and how many its record says it has (null when unknown).</summary>
public sealed record AttemptHistory(string AttemptId, IReadOnlyList<StoredEvent> Events, long? ExpectedCount);

/// <summary>
/// What a campaign verification found. BrokenAttempt is empty when the campaign stream itself is broken (BrokenAt
/// is then its event number); otherwise BrokenAt is the event number inside that attempt.
/// </summary>
public sealed record CampaignReport(
    bool Ok, long EventsChecked, long BrokenAt, string? Problem, string? BrokenAttempt, string? BrokenBlob,
    bool Sealed, string? KeyId, string HeadHash, int AttemptsChecked)
{
    public long BlobsChecked { get; init; }
    /// <summary>Corrections checked (export bundles only).</summary>
    public long CorrectionsChecked { get; init; }
    /// <summary>Why a campaign whose chain verifies is not sealed (null when sealed or broken): see <see cref="CampaignVerifier.WhyUnsealed"/>.</summary>
    public string? UnsealedReason { get; init; }
}

/// <summary>
/// Checks a campaign (docs/audit.md, "Campaign seals"): the campaign stream's chain and seal, that the seal lists
/// exactly the campaign's attempts in order with each attempt's own seal, and every attempt's chain, seal and blobs.
/// The same code checks the live store and an exported campaign bundle.
/// </summary>
public static class CampaignVerifier
{
    public static readonly IReadOnlySet<string> CampaignTerminalTypes = new HashSet<string> { "campaign_completed" };

    public static async Task<CampaignReport> VerifyAsync(
        string campaign, IReadOnlyList<StoredEvent> events, long? expectedCount, IReadOnlyDictionary<string, byte[]> trusted,
        Func<string, CancellationToken, Task<AttemptHistory?>> loadAttempt, Func<string, CancellationToken, Task<byte[]?>> fetchBlob, CancellationToken ct)
    {
        var chain = ChainVerifier.Verify(campaign, events, trusted, expectedCount, CampaignTerminalTypes);
        if (!chain.Ok) return new(false, chain.EventsChecked, chain.BrokenAt, chain.Problem, null, null, false, chain.KeyId, chain.HeadHash, 0);
        CampaignReport Broken(long at, string problem, string? attempt = null, string? blob = null, int attemptsChecked = 0) =>
            new(false, chain.EventsChecked, at, problem, attempt, blob, chain.Sealed, chain.KeyId, chain.HeadHash, attemptsChecked);

        var ids = AttemptIds(events[0].DataJson);
        if (ids is null) return Broken(1, "event 1 is not a campaign_created event listing the campaign's attempts");
        List<AttemptSealRef>? listed = null;
        if (chain.Sealed)
        {
            using var doc = JsonDocument.Parse(events[^1].DataJson);
            listed = CampaignSeals.AttemptsOf(doc.RootElement);
            if (!listed.Select(a => a.AttemptId).SequenceEqual(ids))
                return Broken(events.Count, $"the campaign seal at event {events.Count} lists attempts [{string.Join(", ", listed.Select(a => a.AttemptId))}] " +
                                            $"but the campaign has [{string.Join(", ", ids)}]");
        }
        var checkedCount = 0;
        var ended = 0;
        long blobsChecked = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            var history = await loadAttempt(id, ct);
            if (history is null || history.Events.Count == 0) return Broken(1, $"attempt {id}: its history is missing", id, attemptsChecked: checkedCount);
            var r = ChainVerifier.Verify(id, history.Events, trusted, history.ExpectedCount);
            r = r.WithBlobs(await BlobReferences.CheckAsync(r.Verified(history.Events), fetchBlob, ct));
            if (!r.Ok) return Broken(r.BrokenAt, $"attempt {id}: BROKEN at event {r.BrokenAt}: {r.Problem}", id, r.BrokenBlob, checkedCount);
            if (listed is not null)
            {
                var last = history.Events[^1];
                var own = last.Type == ChainVerifier.SealType ? CampaignSeals.FromAttemptSeal(id, last.DataJson) : null;
                if (own is null || own != listed[i])
                    return Broken(history.Events.Count, $"attempt {id}: its seal (event {last.Version}) is not the one the campaign seal signed", id, attemptsChecked: checkedCount);
            }
            checkedCount++;
            if (history.Events.Any(e => ChainVerifier.AttemptTerminalTypes.Contains(e.Type))) ended++;
            blobsChecked += r.BlobsChecked;
        }
        return new(true, chain.EventsChecked, 0, null, null, null, chain.Sealed, chain.KeyId, chain.HeadHash, checkedCount)
        {
            BlobsChecked = blobsChecked,
            UnsealedReason = chain.Sealed ? null : WhyUnsealed(events.Any(e => CampaignTerminalTypes.Contains(e.Type)), ended, ids.Count),
        };
    }

    /// <summary>
    /// The true reason a verified campaign has no seal, from what its streams hold: attempts still running is the
    /// normal case; every attempt ended without the campaign's completion means a completion is missing (the
    /// orchestrator's campaign reconciler derives it); a completion without a seal means an attempt had none then.
    /// </summary>
    public static string WhyUnsealed(bool completed, int ended, int total) =>
        completed ? "the campaign completed but was not sealed (an attempt had no seal when it completed)"
        : ended == total ? $"every attempt ended ({ended} of {total}) but the campaign was not completed (the orchestrator's campaign reconciler records the completion and seal)"
        : $"{total - ended} of {total} attempts have not ended yet";

    /// <summary>The attempt ids (canonical lower-case form) a campaign_created body lists, or null.</summary>
    public static List<string>? AttemptIds(string createdJson)
    {
        using var doc = JsonDocument.Parse(createdJson);
        if (CampaignSeals.Field(doc.RootElement, "AttemptIds") is not { ValueKind: JsonValueKind.Array } arr) return null;
        return arr.EnumerateArray().Select(a => Guid.TryParse(a.GetString(), out var g) ? g.ToString("D") : a.GetString() ?? "").ToList();
    }
}
