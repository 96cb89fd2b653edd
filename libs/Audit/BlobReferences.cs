using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReBench.Audit;

/// <summary>A reference from an event body to a blob: the member that names it, its SHA-256 and its size.</summary>
public sealed record BlobRef(string Field, string Sha256, long Size);

/// <summary>What a blob check found: the first broken reference (event number and digest), or none.</summary>
public sealed record BlobReport(bool Ok, long BlobsChecked, long BrokenAt, string? BrokenSha256, string? Problem);

/// <summary>
/// Which blobs an event references (docs/audit.md, "Blobs"): every top-level member named <c>&lt;X&gt;BlobSha256</c>
/// whose value is a string, with its size in <c>&lt;X&gt;BlobSize</c>; and an <c>action_requested</c> whose
/// <c>ContentBlobStored</c> is true references <c>ContentSha256</c> / <c>ContentSize</c>. Names compare
/// case-insensitively. Events written before the blob store reference nothing, so they still verify.
/// </summary>
public static partial class BlobReferences
{
    private const string DigestSuffix = "BlobSha256", SizeSuffix = "BlobSize";

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();

    public static bool IsDigest(string? s) => s is not null && DigestPattern().IsMatch(s);

    public static string Digest(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public static List<BlobRef> Of(string type, string dataJson)
    {
        var refs = new List<BlobRef>();
        using var doc = JsonDocument.Parse(dataJson);
        var d = doc.RootElement;
        if (d.ValueKind != JsonValueKind.Object) return refs;
        foreach (var p in d.EnumerateObject())
        {
            if (!p.Name.EndsWith(DigestSuffix, StringComparison.OrdinalIgnoreCase) || p.Value.ValueKind != JsonValueKind.String) continue;
            var prefix = p.Name[..^DigestSuffix.Length];
            refs.Add(new BlobRef(p.Name, p.Value.GetString()!, Size(d, prefix + SizeSuffix)));
        }
        if (type == "action_requested" && Field(d, "ContentBlobStored") is { ValueKind: JsonValueKind.True }
            && Field(d, "ContentSha256") is { ValueKind: JsonValueKind.String } content)
            refs.Add(new BlobRef("ContentSha256", content.GetString()!, Size(d, "ContentSize")));
        return refs;
    }

    /// <summary>
    /// Checks every blob the events reference, in event order: present, its bytes hash to the digest, its size is
    /// the recorded one. <paramref name="fetch"/> returns a blob's bytes, or null when it is missing.
    /// </summary>
    public static async Task<BlobReport> CheckAsync(IEnumerable<StoredEvent> events, Func<string, CancellationToken, Task<byte[]?>> fetch, CancellationToken ct)
    {
        long checkedCount = 0;
        var good = new Dictionary<string, long>();
        foreach (var e in events)
        {
            List<BlobRef> refs;
            try { refs = Of(e.Type, e.DataJson); }
            catch (JsonException) { continue; } // the chain check reports a body that is not JSON
            foreach (var r in refs)
            {
                BlobReport Broken(string problem) => new(false, checkedCount, e.Version, r.Sha256, $"event {e.Version} ({e.Type}) {r.Field} {r.Sha256}: {problem}");
                if (!IsDigest(r.Sha256)) return Broken("is not a lower-case hex SHA-256");
                if (!good.TryGetValue(r.Sha256, out var size))
                {
                    var bytes = await fetch(r.Sha256, ct);
                    if (bytes is null) return Broken("the blob is missing");
                    if (Digest(bytes) != r.Sha256) return Broken($"the blob's bytes hash to {Digest(bytes)}, not to its digest: the blob was altered");
                    good[r.Sha256] = size = bytes.LongLength;
                }
                if (size != r.Size) return Broken($"the event records size {r.Size} but the blob has {size} bytes");
                checkedCount++;
            }
        }
        return new BlobReport(true, checkedCount, 0, null, null);
    }

    private static long Size(JsonElement d, string name) =>
        Field(d, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n : -1;

    private static JsonElement? Field(JsonElement d, string name)
    {
        foreach (var p in d.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }
}
