using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReBench.Audit;

/// <summary>A bundle that cannot be read: not a zip, truncated, missing a part, or malformed (message says which).</summary>
public sealed class BundleException(string message) : Exception(message);

public sealed record BundleKey(string Algorithm, string KeyId, byte[] PublicKey);

public sealed record AuditBundle(string Kind, string Stream, BundleKey Key, IReadOnlyList<StoredEvent> Events, long EventCount, string HeadHash)
{
    /// <summary>The blobs in the archive (blobs/&lt;sha256&gt;), by the digest their entry name claims.</summary>
    public IReadOnlyDictionary<string, byte[]> Blobs { get; init; } = new Dictionary<string, byte[]>();
    /// <summary>A campaign bundle's attempts (attempts/&lt;id&gt;.jsonl), in the campaign's order.</summary>
    public IReadOnlyList<AttemptHistory> Attempts { get; init; } = [];
    /// <summary>The corrections streams of the bundle's attempts that have any (corrections/&lt;attempt id&gt;.jsonl).</summary>
    public IReadOnlyList<CorrectionsHistory> Corrections { get; init; } = [];
}

/// <summary>
/// The export archive (format in docs/audit.md): a zip with manifest.json and events.jsonl, one stored event per
/// line in stream order with its body exactly as stored. Everything needed to check it offline is inside; the
/// public key in it is only a hint: an auditor pins the platform's key.
/// </summary>
public static class Bundle
{
    public const string Format = "rebench-audit-bundle/1";
    public const string ManifestFile = "manifest.json";
    public const string EventsFile = "events.jsonl";

    public static void Write(Stream output, string kind, string stream, BundleKey key, IReadOnlyList<StoredEvent> events, string headHash, DateTimeOffset exportedAt,
        IReadOnlyDictionary<string, byte[]>? blobs = null, IReadOnlyList<AttemptHistory>? attempts = null,
        IReadOnlyList<CorrectionsHistory>? corrections = null)
    {
        var eventsBytes = Lines(events);
        var files = new JsonObject { [EventsFile] = FileEntry(eventsBytes) };
        var attemptFiles = (attempts ?? []).Select(a => (a, Name: AttemptFile(a.AttemptId), Bytes: Lines(a.Events))).ToList();
        foreach (var f in attemptFiles) files[f.Name] = FileEntry(f.Bytes);
        var correctionFiles = (corrections ?? []).Select(c => (c, Name: CorrectionsFile(c.AttemptId), Bytes: Lines(c.Events))).ToList();
        foreach (var f in correctionFiles) files[f.Name] = FileEntry(f.Bytes);
        var manifest = new JsonObject
        {
            ["format"] = Format, ["kind"] = kind, ["stream"] = stream, ["event_count"] = events.Count, ["head_hash"] = headHash,
            ["exported_at"] = exportedAt.ToString("O"),
            ["public_key"] = new JsonObject { ["algorithm"] = key.Algorithm, ["key_id"] = key.KeyId, ["base64"] = Convert.ToBase64String(key.PublicKey) },
            ["files"] = files,
        };
        if (attempts is not null)
            manifest["attempts"] = new JsonArray([.. attemptFiles.Select(f => (JsonNode)new JsonObject { ["id"] = f.a.AttemptId, ["event_count"] = f.a.ExpectedCount ?? f.a.Events.Count })]);
        if (correctionFiles.Count > 0)
        {
            manifest["corrections"] = new JsonArray([.. correctionFiles.Select(f => (JsonNode)new JsonObject
            {
                ["attempt_id"] = f.c.AttemptId, ["stream"] = f.c.Stream, ["event_count"] = f.c.Events.Count,
            })]);
        }
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Add(zip, ManifestFile, Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
        Add(zip, EventsFile, eventsBytes);
        foreach (var f in attemptFiles) Add(zip, f.Name, f.Bytes);
        foreach (var f in correctionFiles) Add(zip, f.Name, f.Bytes);
        foreach (var (digest, content) in blobs ?? new Dictionary<string, byte[]>()) Add(zip, BlobPrefix + digest, content);
    }

    public const string BlobPrefix = "blobs/", AttemptPrefix = "attempts/", CorrectionsPrefix = "corrections/";

    public static string AttemptFile(string attemptId) => $"{AttemptPrefix}{attemptId}.jsonl";

    public static string CorrectionsFile(string attemptId) => $"{CorrectionsPrefix}{attemptId}.jsonl";

    private static JsonObject FileEntry(byte[] bytes) => new() { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)), ["size"] = bytes.Length };

    private static byte[] Lines(IEnumerable<StoredEvent> events)
    {
        var lines = new StringBuilder();
        foreach (var e in events)
        {
            lines.Append("{\"version\":").Append(e.Version).Append(",\"type\":").Append(JsonSerializer.Serialize(e.Type))
                .Append(",\"hash\":").Append(JsonSerializer.Serialize(e.Hash)).Append(",\"data\":").Append(e.DataJson).Append("}\n");
        }
        return Encoding.UTF8.GetBytes(lines.ToString());
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        s.Write(bytes);
    }

    public static AuditBundle Read(string path)
    {
        if (!File.Exists(path)) throw new BundleException($"{path}: no such file");
        try
        {
            using var zip = new ZipArchive(File.OpenRead(path), ZipArchiveMode.Read);
            var manifestBytes = ReadEntry(zip, ManifestFile);
            var eventsBytes = ReadEntry(zip, EventsFile);
            using var manifest = JsonDocument.Parse(manifestBytes);
            var m = manifest.RootElement;
            string Str(JsonElement e, string name) =>
                e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new BundleException($"manifest.json: '{name}' is missing");
            if (Str(m, "format") != Format) throw new BundleException($"manifest.json: format '{Str(m, "format")}' is not {Format}");
            var pk = m.TryGetProperty("public_key", out var p) ? p : throw new BundleException("manifest.json: 'public_key' is missing");
            var key = new BundleKey(Str(pk, "algorithm"), Str(pk, "key_id"), Convert.FromBase64String(Str(pk, "base64")));
            CheckListed(m, EventsFile, eventsBytes);
            var attempts = new List<AttemptHistory>();
            if (m.TryGetProperty("attempts", out var listed))
            {
                foreach (var a in listed.EnumerateArray())
                {
                    var id = Str(a, "id");
                    var name = AttemptFile(id);
                    var bytes = ReadEntry(zip, name);
                    CheckListed(m, name, bytes);
                    attempts.Add(new AttemptHistory(id, ParseEvents(bytes, name), a.GetProperty("event_count").GetInt64()));
                }
            }
            var corrections = new List<CorrectionsHistory>();
            if (m.TryGetProperty("corrections", out var correctionsListed))
            {
                foreach (var c in correctionsListed.EnumerateArray())
                {
                    var id = Str(c, "attempt_id");
                    var name = CorrectionsFile(id);
                    var bytes = ReadEntry(zip, name);
                    CheckListed(m, name, bytes);
                    corrections.Add(new CorrectionsHistory(id, Str(c, "stream"), ParseEvents(bytes, name), c.GetProperty("event_count").GetInt64()));
                }
            }
            var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries.Where(e => e.FullName.StartsWith(BlobPrefix, StringComparison.Ordinal) && e.FullName.Length > BlobPrefix.Length))
                blobs[entry.FullName[BlobPrefix.Length..]] = ReadEntry(zip, entry.FullName);
            return new AuditBundle(Str(m, "kind"), Str(m, "stream"), key, ParseEvents(eventsBytes, EventsFile), m.GetProperty("event_count").GetInt64(), Str(m, "head_hash"))
            {
                Blobs = blobs, Attempts = attempts, Corrections = corrections,
            };
        }
        catch (InvalidDataException e) when (StartsLikeZip(path))
        {
            // A zip's directory is at its end: a file cut short keeps its local headers but loses the directory.
            throw new BundleException($"{path} is truncated or damaged: it starts as a zip archive but cannot be read to its end ({e.Message})");
        }
        catch (InvalidDataException e) { throw new BundleException($"{path} is not an audit bundle (not a readable zip archive: {e.Message})"); }
        catch (EndOfStreamException) { throw new BundleException($"{path} is truncated"); }
        catch (JsonException e) { throw new BundleException($"{path}: manifest.json is not valid JSON: {e.Message}"); }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BundleException($"{path}: manifest.json is malformed: {e.Message}");
        }
    }

    private static bool StartsLikeZip(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
    }

    private static byte[] ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new BundleException($"the archive has no {name}: not an audit bundle");
        using var s = entry.Open();
        using var buffer = new MemoryStream();
        s.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static void CheckListed(JsonElement manifest, string name, byte[] bytes)
    {
        var declared = manifest.GetProperty("files").GetProperty(name).GetProperty("sha256").GetString();
        if (declared != Convert.ToHexStringLower(SHA256.HashData(bytes)))
            throw new BundleException($"{name} does not match the SHA-256 in manifest.json: the archive was altered or is incomplete");
    }

    private static List<StoredEvent> ParseEvents(byte[] bytes, string file)
    {
        var events = new List<StoredEvent>();
        var lineNo = 0;
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                events.Add(new StoredEvent(r.GetProperty("version").GetInt64(), r.GetProperty("type").GetString()!,
                    r.GetProperty("data").GetRawText(), r.TryGetProperty("hash", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new BundleException($"{file} line {lineNo} is not a valid event record: {e.Message}");
            }
        }
        return events;
    }
}
