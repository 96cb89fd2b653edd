using System.Security.Cryptography;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench blob get` (GetBlob: a model call's request/response or a written file, by SHA-256) and `rebench key`
/// (GetPublicKey: the key that signs seals, to pin with `verify --offline --public-key`).
/// </summary>
internal static class BlobCommands
{
    public static Command Build()
    {
        var sha = new Argument<string>("sha256") { Description = "the blob's SHA-256 (64 hex digits), as events reference it" };
        var output = new Option<FileInfo?>("-o", "--output") { Description = "file to write (default: stdout)" };
        var attempt = new Option<string?>("--attempt") { Description = "only if this attempt's events reference the blob (exit 4 otherwise)" };
        var get = new Command("get", "fetch a blob by its SHA-256; the content is re-hashed before it is written (exit 1 if it does not match)") { sha, output, attempt };
        get.SetAction(async (r, ct) =>
        {
            var hash = r.GetValue(sha)!.Trim().ToLowerInvariant();
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit)) throw CliException.Bad($"sha256 '{Parsing.Quote(r.GetValue(sha))}': use 64 hex digits");
            var file = r.GetValue(output);
            if (file is not null && (file.Directory is null || !file.Directory.Exists))
                throw CliException.Bad($"-o: directory '{Parsing.Quote(file.Directory?.FullName)}' does not exist");
            using var client = CliApp.Client(r);
            // GetBlob takes only the hash; --attempt is checked here against the attempt's recorded events.
            if (r.GetValue(attempt) is { } attemptId && !await ReferencesAsync(client, attemptId, hash, ct))
                throw new CliException(ExitCodes.NotFound, $"attempt {Parsing.Quote(attemptId)} references no blob {hash}");
            var blob = await client.Audit.GetBlobAsync(new GetBlobRequest { Sha256 = hash }, cancellationToken: ct);
            var content = blob.Content.ToByteArray();
            // The platform re-hashes too; checking here means a tampered proxy or store cannot hand over other bytes.
            var actual = Convert.ToHexStringLower(SHA256.HashData(content));
            if (actual != hash)
            {
                await Console.Error.WriteLineAsync($"error: the content's SHA-256 is {actual}, not {hash}: nothing written");
                return ExitCodes.CheckFailed;
            }
            if (file is null)
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(content, ct);
            }
            else
            {
                await File.WriteAllBytesAsync(file.FullName, content, ct);
                await Console.Error.WriteLineAsync($"wrote {file.FullName}: {content.Length} bytes, sha256 {hash}");
            }
            return ExitCodes.Ok;
        });
        return new Command("blob", "content-addressed blobs the events reference") { get };
    }

    public static Command Key()
    {
        var json = new Option<bool>("--json") { Description = "as JSON" };
        var key = new Command("key", "the platform's public key (base64, for verify --offline --public-key), its id and SHA-256 fingerprint") { json };
        key.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            var res = await client.Audit.GetPublicKeyAsync(new GetPublicKeyRequest(), cancellationToken: ct);
            var keys = new[] { res.Current }.Concat(res.Trusted.Where(k => k.KeyId != res.Current?.KeyId)).Where(k => k is not null).ToList();
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(keys.Select((k, i) => new
                {
                    current = i == 0, algorithm = k.Algorithm, key_id = k.KeyId, public_key = Convert.ToBase64String(k.PublicKey_.ToByteArray()),
                    fingerprint_sha256 = Fingerprint(k),
                }), new JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Ok;
            }
            foreach (var (k, i) in keys.Select((k, i) => (k, i)))
            {
                Console.WriteLine($"{(i == 0 ? "current" : "trusted")} {k.Algorithm} key {k.KeyId}");
                Console.WriteLine($"  public key (base64):  {Convert.ToBase64String(k.PublicKey_.ToByteArray())}");
                Console.WriteLine($"  fingerprint (sha256): {Fingerprint(k)}");
            }
            return ExitCodes.Ok;
        });
        return key;
    }

    private static async Task<bool> ReferencesAsync(PlatformClient client, string attemptId, string hash, CancellationToken ct)
    {
        using var call = client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId }, cancellationToken: ct);
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            if (e.DataJson.Contains(hash, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>SHA-256 of the raw key, hex; its first 16 digits are the key id seals name.</summary>
    public static string Fingerprint(PublicKey k) => Convert.ToHexStringLower(SHA256.HashData(k.PublicKey_.ToByteArray()));
}
