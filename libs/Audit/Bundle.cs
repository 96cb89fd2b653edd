using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReBench.Audit;

/// <summary>A bundle that cannot be read: not a zip, truncated, missing a part, or malformed (message says which).</summary>
public sealed class BundleException(string message) : Exception(message);

public sealed record BundleKey(string Algorithm, string KeyId, byte[] PublicKey);

public sealed record AuditBundle(string Kind, string Stream, BundleKey Key, IReadOnlyList<StoredEvent> Events, long EventCount, string HeadHash);

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

    public static void Write(Stream output, string kind, string stream, BundleKey key, IReadOnlyList<StoredEvent> events, string headHash, DateTimeOffset exportedAt)
    {
        var lines = new StringBuilder();
        foreach (var e in events)
        {
            lines.Append("{\"version\":").Append(e.Version).Append(",\"type\":").Append(JsonSerializer.Serialize(e.Type))
                .Append(",\"hash\":").Append(JsonSerializer.Serialize(e.Hash)).Append(",\"data\":").Append(e.DataJson).Append("}\n");
        }
        var eventsBytes = Encoding.UTF8.GetBytes(lines.ToString());
        var manifest = new JsonObject
        {
            ["format"] = Format, ["kind"] = kind, ["stream"] = stream, ["event_count"] = events.Count, ["head_hash"] = headHash,
            ["exported_at"] = exportedAt.ToString("O"),
            ["public_key"] = new JsonObject { ["algorithm"] = key.Algorithm, ["key_id"] = key.KeyId, ["base64"] = Convert.ToBase64String(key.PublicKey) },
            ["files"] = new JsonObject
            {
                [EventsFile] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(eventsBytes)), ["size"] = eventsBytes.Length },
            },
        };
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Add(zip, ManifestFile, Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
        Add(zip, EventsFile, eventsBytes);
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
            var declared = m.GetProperty("files").GetProperty(EventsFile).GetProperty("sha256").GetString();
            if (declared != Convert.ToHexStringLower(SHA256.HashData(eventsBytes)))
                throw new BundleException($"{EventsFile} does not match the SHA-256 in manifest.json: the archive was altered or is incomplete");
            return new AuditBundle(Str(m, "kind"), Str(m, "stream"), key, ParseEvents(eventsBytes), m.GetProperty("event_count").GetInt64(), Str(m, "head_hash"));
        }
        catch (InvalidDataException e) { throw new BundleException($"{path} is not an audit bundle (not a readable zip archive: {e.Message})"); }
        catch (EndOfStreamException) { throw new BundleException($"{path} is truncated"); }
        catch (JsonException e) { throw new BundleException($"{path}: manifest.json is not valid JSON: {e.Message}"); }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BundleException($"{path}: manifest.json is malformed: {e.Message}");
        }
    }

    private static byte[] ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new BundleException($"the archive has no {name}: not an audit bundle");
        using var s = entry.Open();
        using var buffer = new MemoryStream();
        s.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static List<StoredEvent> ParseEvents(byte[] bytes)
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
                throw new BundleException($"{EventsFile} line {lineNo} is not a valid event record: {e.Message}");
            }
        }
        return events;
    }
}
