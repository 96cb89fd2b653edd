using System.IO.Compression;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Edits an entry of an export bundle the way a careful forger would: the manifest's digest of the entry is updated
/// too, so only the hash chain can tell.
/// </summary>
internal static class BundleTamper
{
    public static void RewriteEntry(string bundle, string name, Func<string, string> edit)
    {
        using var zip = ZipFile.Open(bundle, ZipArchiveMode.Update);
        var entry = zip.GetEntry(name) ?? throw new InvalidOperationException($"{bundle} has no {name}");
        string text;
        using (var reader = new StreamReader(entry.Open())) text = reader.ReadToEnd();
        var changed = edit(text);
        if (changed == text) throw new InvalidOperationException($"the edit changed nothing in {name}");
        var bytes = Encoding.UTF8.GetBytes(changed);
        Replace(zip, name, bytes);
        var manifestEntry = zip.GetEntry("manifest.json")!;
        JsonNode manifest;
        using (var reader = new StreamReader(manifestEntry.Open())) manifest = JsonNode.Parse(reader.ReadToEnd())!;
        manifest["files"]![name]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Replace(zip, "manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    private static void Replace(ZipArchive zip, string name, byte[] bytes)
    {
        zip.GetEntry(name)!.Delete();
        using var s = zip.CreateEntry(name).Open();
        s.Write(bytes);
    }
}
