using System.Diagnostics;
using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The export bundle checked offline twice: by the .NET verifier and by tools/audit/verify_bundle.py, an
/// independent implementation (Python standard library, run with /usr/bin/python3).
/// </summary>
public sealed class AuditBundleTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private string _dir => Folder;

    private async Task<string> ExportAsync()
    {
        var id = await ScheduledAttemptAsync("bundle", settings: new() { ["note"] = "caf\u00e9 \"q\" \u0001" });
        var store = Get<AttemptStore>();
        await store.AppendAsync(id, s => AttemptDecider.Start(s, new("env", "local", "node", "1", "b", "s", 2.5, 1e-7, "min", true, "dev"), "test", T0), CancellationToken.None);
        await store.AppendAsync(id, s => [new ModelCallCompleted(id, "c1", "p", "m", 1, 2, 0, 0, 1.25e-3, 5, "{\"x\":[1,2.50,-0.0]}", "{}", T0)], CancellationToken.None);
        await store.AppendAsync(id, s => AttemptDecider.Cancel(s, "enough", "auditor", T0), CancellationToken.None);

        var (events, _) = await Get<AttemptAuditor>().ReadAsync(id, CancellationToken.None);
        var key = Get<PlatformKey>();
        var path = Path.Combine(_dir, $"{id}.zip");
        await using (var f = File.Create(path))
            Bundle.Write(f, "attempt", EventChain.StreamKey(id), new BundleKey(Seals.Algorithm, key.KeyId, key.Signer.PublicKey), events, events[^1].Hash!, T0);
        return path;
    }

    private static (int Code, string Output) Python(string bundle, string? publicKey) => AuditFixtures.Python(bundle, publicKey);

    private string PlatformKeyBase64 => Convert.ToBase64String(Get<PlatformKey>().Signer.PublicKey);

    [Fact]
    public async Task An_export_verifies_offline_in_DotNet_and_in_Python()
    {
        var path = await ExportAsync();
        var bundle = Bundle.Read(path);
        var r = ChainVerifier.Verify(bundle.Stream, bundle.Events, new Dictionary<string, byte[]> { [bundle.Key.KeyId] = bundle.Key.PublicKey }, bundle.EventCount);
        Assert.True(r.Ok, r.Problem);
        Assert.Equal(5, r.EventsChecked);
        Assert.True(r.Sealed);

        var (code, output) = Python(path, PlatformKeyBase64);
        Assert.True(code == 0, output);
        Assert.Contains("OK: 5 events verified", output);
        Assert.Contains(r.HeadHash, output);
    }

    [Fact]
    public async Task An_edited_export_is_located_by_both_verifiers()
    {
        var path = await ExportAsync();
        RewriteEvents(path, lines =>
        {
            var record = JsonNode.Parse(lines[2])!.AsObject(); // event 3: the model call
            var data = record["data"]!.AsObject();
            var key = data.Select(p => p.Key).First(k => k.Equals("CostUsd", StringComparison.OrdinalIgnoreCase));
            data[key] = 0.0;
            lines[2] = record.ToJsonString();
        });
        var bundle = Bundle.Read(path);
        var r = ChainVerifier.Verify(bundle.Stream, bundle.Events, Get<PlatformKey>().Trusted, bundle.EventCount);
        Assert.Equal(3, r.BrokenAt);

        var (code, output) = Python(path, PlatformKeyBase64);
        Assert.Equal(1, code);
        Assert.Contains("BROKEN at event 3", output);
    }

    [Fact]
    public async Task An_export_checked_against_another_key_is_located_at_the_seal()
    {
        var path = await ExportAsync();
        var other = Convert.ToBase64String(SealSigner.Generate(out _).PublicKey);
        var (code, output) = Python(path, other);
        Assert.Equal(1, code);
        Assert.Contains("BROKEN at event 5", output);
        Assert.Contains("unknown key", output);
    }

    [Fact]
    public async Task A_truncated_or_foreign_file_is_a_bad_bundle_not_a_verdict()
    {
        var path = await ExportAsync();
        var bytes = await File.ReadAllBytesAsync(path);
        var truncated = Path.Combine(_dir, "truncated.zip");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        var text = Path.Combine(_dir, "notes.txt");
        await File.WriteAllTextAsync(text, "not an archive");
        foreach (var bad in new[] { truncated, text })
        {
            var e = Assert.Throws<BundleException>(() => Bundle.Read(bad));
            Assert.Contains(Path.GetFileName(bad), e.Message);
            var (code, output) = Python(bad, PlatformKeyBase64);
            Assert.True(code == 2, output);
        }
    }

    /// <summary>Edits events.jsonl inside the archive and fixes the manifest's digest, as a careful forger would.</summary>
    private static void RewriteEvents(string path, Action<List<string>> edit)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        string Read(string name)
        {
            using var r = new StreamReader(zip.GetEntry(name)!.Open());
            return r.ReadToEnd();
        }
        var lines = Read(Bundle.EventsFile).TrimEnd('\n').Split('\n').ToList();
        edit(lines);
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
        var manifest = JsonNode.Parse(Read(Bundle.ManifestFile))!;
        manifest["files"]![Bundle.EventsFile]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        void Write(string name, byte[] content)
        {
            zip.GetEntry(name)!.Delete();
            using var s = zip.CreateEntry(name).Open();
            s.Write(content);
        }
        Write(Bundle.EventsFile, bytes);
        Write(Bundle.ManifestFile, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }
}
