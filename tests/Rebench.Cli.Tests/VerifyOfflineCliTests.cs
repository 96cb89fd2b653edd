using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ReBench.Audit;

namespace ReBench.Cli.Tests;

/// <summary>
/// `rebench verify --offline` as a script runs it, on bundles built here with a real chain and a real Ed25519 seal:
/// exit 0 verified, 1 broken (with the event number), 2 bad input (no file, not a zip, truncated, not a bundle,
/// a key that is not base64). The attempt: the 15 events of <see cref="ReplayFoldTests.Attempt"/>, sealed at 16.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class VerifyOfflineCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-verify-cli-").FullName;
    private readonly SealSigner _platform = SealSigner.Generate(out _);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PlatformKey => Convert.ToBase64String(_platform.PublicKey);

    /// <summary>A sealed attempt bundle signed by <paramref name="signer"/>, with that signer's key in its manifest.</summary>
    private string Write(SealSigner signer, string name = "attempt.zip")
    {
        var stream = ReplayFoldTests.AttemptId;
        var events = new List<StoredEvent>();
        var prev = EventChain.Genesis;
        foreach (var (type, json) in ReplayFoldTests.Attempt())
        {
            prev = EventChain.Link(prev, stream, events.Count + 1, type, json);
            events.Add(new StoredEvent(events.Count + 1, type, json, prev));
        }
        var seal = JsonSerializer.Serialize(new
        {
            AttemptId = stream, HeadVersion = events.Count, HeadHash = prev, Algorithm = Seals.Algorithm, signer.KeyId,
            Signature = Convert.ToBase64String(signer.Sign(stream, events.Count, prev)), At = DateTimeOffset.UnixEpoch,
        });
        var head = EventChain.Link(prev, stream, events.Count + 1, ChainVerifier.SealType, seal);
        events.Add(new StoredEvent(events.Count + 1, ChainVerifier.SealType, seal, head));
        var path = Path.Combine(_dir, name);
        using var f = File.Create(path);
        Bundle.Write(f, "attempt", stream, new BundleKey(Seals.Algorithm, signer.KeyId, signer.PublicKey), events, head, DateTimeOffset.UnixEpoch);
        return path;
    }

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        ConsoleCollection.CaptureAsync(() => CliApp.Build().Parse(args).InvokeAsync());

    [Fact]
    public async Task A_sealed_bundle_verifies_against_the_pinned_key()
    {
        var (exit, output, error) = await RunAsync("verify", "--offline", Write(_platform), "--public-key", PlatformKey);
        Assert.True(exit == 0, output + error);
        Assert.Contains("16 events verified", output);
        Assert.Contains($"sealed by key {_platform.KeyId}", output);
    }

    [Fact]
    public async Task A_bundle_signed_by_an_unknown_key_is_broken_at_the_seal()
    {
        var path = Write(SealSigner.Generate(out _));
        var (exit, output, _) = await RunAsync("verify", "--offline", path, "--public-key", PlatformKey);
        Assert.Equal(1, exit);
        Assert.Contains("BROKEN at event 16", output);
        Assert.Contains("unknown key", output);

        // Without a pinned key the bundle's own key is trusted, and the CLI says so.
        var (trusting, _, warning) = await RunAsync("verify", "--offline", path);
        Assert.Equal(0, trusting);
        Assert.Contains("--public-key", warning);
    }

    [Fact]
    public async Task An_edited_event_is_broken_at_its_number()
    {
        var path = Write(_platform);
        await using (var zip = await ZipFile.OpenAsync(path, ZipArchiveMode.Update))
        {
            string Read(string n) { using var r = new StreamReader(zip.GetEntry(n)!.Open()); return r.ReadToEnd(); }
            var lines = Read(Bundle.EventsFile).TrimEnd('\n').Split('\n');
            var record = JsonNode.Parse(lines[6])!.AsObject(); // event 7: the first model call
            record["data"]!["CostUsd"] = 0.0;
            lines[6] = record.ToJsonString();
            var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
            var manifest = JsonNode.Parse(Read(Bundle.ManifestFile))!;
            manifest["files"]![Bundle.EventsFile]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            void Put(string n, byte[] content) { zip.GetEntry(n)!.Delete(); using var s = zip.CreateEntry(n).Open(); s.Write(content); }
            Put(Bundle.EventsFile, bytes);
            Put(Bundle.ManifestFile, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        }
        var (exit, output, _) = await RunAsync("verify", "--offline", path, "--public-key", PlatformKey);
        Assert.Equal(1, exit);
        Assert.Contains("BROKEN at event 7", output);
    }

    [Fact]
    public async Task A_truncated_bundle_is_bad_input()
    {
        var path = Write(_platform);
        var bytes = await File.ReadAllBytesAsync(path);
        var truncated = Path.Combine(_dir, "truncated.zip");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);
        var (exit, output, error) = await RunAsync("verify", "--offline", truncated, "--public-key", PlatformKey);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error:", error);
        Assert.Contains("truncated.zip is truncated or damaged", error);
    }

    [Fact]
    public async Task A_file_that_is_not_an_archive_is_bad_input()
    {
        var path = Path.Combine(_dir, "notes.txt");
        await File.WriteAllTextAsync(path, "these are not the events you are looking for");
        var (exit, _, error) = await RunAsync("verify", "--offline", path, "--public-key", PlatformKey);
        Assert.Equal(2, exit);
        Assert.Contains("notes.txt is not an audit bundle", error);
    }

    [Fact]
    public async Task A_zip_without_a_bundle_inside_is_bad_input()
    {
        var path = Path.Combine(_dir, "other.zip");
        await using (var zip = await ZipFile.OpenAsync(path, ZipArchiveMode.Create))
        await using (var s = await zip.CreateEntry("readme.txt").OpenAsync())
            s.Write("hello"u8);
        var (exit, _, error) = await RunAsync("verify", "--offline", path);
        Assert.Equal(2, exit);
        Assert.Contains("no manifest.json", error);
    }

    [Fact]
    public async Task A_missing_file_or_a_malformed_key_is_bad_input()
    {
        var (exit, _, error) = await RunAsync("verify", "--offline", Path.Combine(_dir, "absent.zip"));
        Assert.Equal(2, exit);
        Assert.Contains("no such file", error);
        (exit, _, error) = await RunAsync("verify", "--offline", Write(_platform), "--public-key", "not base64!");
        Assert.Equal(2, exit);
        Assert.Contains("--public-key", error);
        (exit, _, error) = await RunAsync("verify", "--offline");
        Assert.Equal(2, exit);
        Assert.Contains("needs a bundle file", error);
    }
}
