using System.Text.Json;

namespace ReBench.Audit;

/// <summary>One stored event as the verifier sees it: raw body text, stored type name and stored link.</summary>
public sealed record StoredEvent(long Version, string Type, string DataJson, string? Hash, bool Archived = false);

/// <summary>What a verification found; BrokenAt is the event number of the first broken link (0 when none).</summary>
public sealed record ChainReport(
    bool Ok, long EventsChecked, long BrokenAt, string? Problem, bool Sealed, long SealedVersion, string? KeyId, string HeadHash)
{
    /// <summary>Blob references checked (docs/audit.md, "Blobs").</summary>
    public long BlobsChecked { get; init; }
    /// <summary>The digest of the first broken blob reference, when that is what is broken.</summary>
    public string? BrokenBlob { get; init; }

    /// <summary>
    /// Adds a blob check over the events whose links verified: a broken blob reference there comes before any
    /// broken link, so it is the first thing broken.
    /// </summary>
    public ChainReport WithBlobs(BlobReport blobs) => blobs.Ok
        ? this with { BlobsChecked = blobs.BlobsChecked }
        : this with { Ok = false, BrokenAt = blobs.BrokenAt, Problem = blobs.Problem, BrokenBlob = blobs.BrokenSha256, BlobsChecked = blobs.BlobsChecked, Sealed = false };

    /// <summary>The events a blob check covers: those before the first broken link (all of them when none is).</summary>
    public IEnumerable<StoredEvent> Verified(IEnumerable<StoredEvent> events) => events.Where(e => Ok || e.Version < BrokenAt);
}

/// <summary>
/// Checks a stream against its hash chain and its seal, independent of the database: the same code checks the
/// live store and an exported bundle. It stops at the first broken link and names its event number.
/// </summary>
public static class ChainVerifier
{
    public const string SealType = "attempt_sealed";
    public static readonly IReadOnlySet<string> AttemptTerminalTypes = new HashSet<string> { "attempt_completed", "attempt_failed", "attempt_cancelled" };

    /// <param name="trustedKeys">public keys by key id; a seal by any other key is reported.</param>
    /// <param name="expectedCount">how many events the stream should have (the attempt's view), when known.</param>
    public static ChainReport Verify(string stream, IEnumerable<StoredEvent> events, IReadOnlyDictionary<string, byte[]> trustedKeys,
        long? expectedCount = null, IReadOnlySet<string>? terminalTypes = null)
    {
        terminalTypes ??= AttemptTerminalTypes;
        var prev = EventChain.Genesis;
        long n = 0, sealedVersion = 0, terminalAt = 0;
        var isSealed = false;
        string? keyId = null;
        ChainReport Broken(long at, string problem) => new(false, n, at, problem, false, sealedVersion, keyId, prev);

        foreach (var e in events)
        {
            var expected = n + 1;
            if (e.Version > expected) return Broken(expected, $"event {expected} is missing: the next stored event is number {e.Version}");
            if (e.Version < expected) return Broken(e.Version, $"event {e.Version} is stored twice or out of order (expected event {expected})");
            if (e.Archived) return Broken(expected, $"event {expected} is marked archived (hidden from readers); history must not be rewritten");
            if (string.IsNullOrEmpty(e.Hash)) return Broken(expected, $"event {expected} ({e.Type}) carries no chain hash");
            string link;
            try { link = EventChain.Link(prev, stream, expected, e.Type, e.DataJson); }
            catch (Exception x) when (x is JsonException or FormatException)
            {
                return Broken(expected, $"event {expected} ({e.Type}) has a body that is not valid JSON: {x.Message}");
            }
            if (!string.Equals(link, e.Hash, StringComparison.Ordinal))
                return Broken(expected, $"event {expected} ({e.Type}) does not match its chain hash: its body, type or position was changed, " +
                                        $"or its predecessor was (stored {Short(e.Hash)}, recomputed {Short(link)})");
            if (e.Type is SealType or CampaignSeals.SealType)
            {
                if (CheckSeal(stream, e.Type, expected, prev, e.DataJson, trustedKeys, out var sealKey) is { } problem)
                {
                    keyId = sealKey;
                    return Broken(expected, problem);
                }
                isSealed = true;
                sealedVersion = expected - 1;
                keyId = sealKey;
            }
            else
            {
                isSealed = false;
                if (terminalTypes.Contains(e.Type)) terminalAt = expected;
            }
            prev = link;
            n = expected;
        }
        if (n == 0) return Broken(1, "the stream has no events");
        if (expectedCount is { } count && count != n)
            return count > n
                ? Broken(n + 1, $"the stream ends at event {n} but the record says it has {count}: events from number {n + 1} on were removed")
                : Broken(count + 1, $"the stream has {n} events but the record says {count}: events from number {count + 1} on were added outside the platform");
        if (terminalAt > 0 && !isSealed)
            return Broken(n + 1, $"the attempt ended at event {terminalAt} but its history is not sealed after event {n}");
        return new ChainReport(true, n, 0, null, isSealed, sealedVersion, keyId, prev);
    }

    private static string? CheckSeal(string stream, string type, long at, string prevLink, string dataJson, IReadOnlyDictionary<string, byte[]> trustedKeys, out string? keyId)
    {
        keyId = null;
        using var doc = JsonDocument.Parse(dataJson);
        var d = doc.RootElement;
        // A link can be recomputed by anyone: a well-linked "seal" may carry any JSON.
        if (d.ValueKind != JsonValueKind.Object) return $"the seal at event {at} has a body that is not a JSON object";
        string? S(string name) => Field(d, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        var headVersion = Field(d, "HeadVersion") is { ValueKind: JsonValueKind.Number } hv && hv.TryGetInt64(out var x) ? x : -1;
        var head = S("HeadHash");
        keyId = S("KeyId");
        var signature = S("Signature");
        if (S("Algorithm") != Seals.Algorithm) return $"the seal at event {at} uses algorithm '{S("Algorithm")}', not {Seals.Algorithm}";
        // A campaign seal signs its attempts' seals too (docs/audit.md, "Campaign seals").
        var isCampaign = type == CampaignSeals.SealType;
        if (headVersion != at - 1 || head != prevLink)
            return $"the seal at event {at} signs event {headVersion} with link {Short(head)}, but the history before it ends at event {at - 1} with link {Short(prevLink)}";
        if (keyId is null || !trustedKeys.TryGetValue(keyId, out var key))
            return $"the seal at event {at} is signed by an unknown key '{keyId}' (trusted: {string.Join(", ", trustedKeys.Keys)})";
        byte[] sig;
        try { sig = Convert.FromBase64String(signature ?? ""); }
        catch (FormatException) { return $"the seal at event {at} has a signature that is not base64"; }
        var message = isCampaign ? CampaignSeals.Message(stream, headVersion, head!, CampaignSeals.AttemptsOf(d)) : Seals.Message(stream, headVersion, head);
        return Seals.Verify(key, message, sig)
            ? null
            : $"the seal at event {at} has a signature that is not valid for key {keyId}";
    }

    /// <summary>Field by name whatever the serializer's casing.</summary>
    private static JsonElement? Field(JsonElement d, string name)
    {
        foreach (var p in d.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    private static string Short(string? hash) => hash is null ? "(none)" : hash.Length > 16 ? hash[..16] + "..." : hash;
}
