using System.CommandLine;
using Grpc.Core;
using ReBench.Audit;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench verify` and `rebench export` (docs/audit.md). Exit codes scripts can test: 0 verified, 1 the history
/// is broken (the first broken link is printed with its event number), 2 bad input (unknown attempt, unreadable file).
/// </summary>
internal static class AuditCommands
{
    public const int Verified = 0, Broken = 1, BadInput = 2;

    public static Command Verify()
    {
        var target = new Argument<string>("target") { Description = "attempt id, or with --offline an exported bundle file" };
        var offline = new Option<bool>("--offline") { Description = "check an exported bundle with no platform running" };
        var publicKey = new Option<string?>("--public-key") { Description = "with --offline: the platform's public key (base64) to pin" };
        var verify = new Command("verify", "check an attempt's hash chain and seal; exit 0 ok, 1 broken, 2 bad input") { target, offline, publicKey };
        verify.SetAction(async (r, ct) => r.GetValue(offline)
            ? VerifyOffline(r.GetValue(target)!, r.GetValue(publicKey))
            : await VerifyOnlineAsync(r, r.GetValue(target)!, ct));
        return verify;
    }

    public static Command Export()
    {
        var attempt = new Argument<string>("attempt-id");
        var output = new Option<FileInfo>("-o", "--output") { Description = "bundle file to write (zip)", Required = true };
        var export = new Command("export", "write an attempt's events, seal and public key to one offline-verifiable file") { attempt, output };
        export.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            // The chain names the stream by its canonical id form (lower-case, hyphenated).
            var id = Guid.TryParse(r.GetValue(attempt), out var g) ? g.ToString("D") : r.GetValue(attempt)!;
            try
            {
                var key = (await client.Orchestrator.GetPublicKeyAsync(new GetPublicKeyRequest(), cancellationToken: ct)).Current;
                var events = new List<Audit.StoredEvent>();
                using var call = client.Orchestrator.ExportAttempt(new ExportAttemptRequest { AttemptId = id }, cancellationToken: ct);
                await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                    events.Add(new Audit.StoredEvent(e.Version, e.EventType, e.DataJson, e.ChainHash is { Length: > 0 } h ? h : null, e.Archived));
                var file = r.GetValue(output)!;
                await using (var f = File.Create(file.FullName))
                    Bundle.Write(f, "attempt", id, new BundleKey(key.Algorithm, key.KeyId, key.PublicKey_.ToByteArray()), events, events.LastOrDefault()?.Hash ?? "", DateTimeOffset.UtcNow);
                Console.WriteLine($"wrote {file.FullName}: {events.Count} events of attempt {id}, public key {key.KeyId}");
                return 0;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                Console.Error.WriteLine($"error: {e.Status.Detail}");
                return BadInput;
            }
        });
        return export;
    }

    private static async Task<int> VerifyOnlineAsync(ParseResult r, string attemptId, CancellationToken ct)
    {
        using var client = CliApp.Client(r);
        try
        {
            var v = await client.Orchestrator.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attemptId }, cancellationToken: ct);
            return Print(attemptId, v.Ok, v.EventsChecked, v.BrokenAt, v.Problem, v.Sealed, v.KeyId, v.HeadHash);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            Console.Error.WriteLine($"error: {e.Status.Detail}");
            return BadInput;
        }
    }

    private static int VerifyOffline(string path, string? pinnedKey)
    {
        AuditBundle bundle;
        byte[] key;
        try
        {
            bundle = Bundle.Read(path);
            if (pinnedKey is null) Console.Error.WriteLine("warning: trusting the public key inside the bundle; pass --public-key to pin the platform's key");
            key = pinnedKey is null ? bundle.Key.PublicKey : Convert.FromBase64String(pinnedKey.Trim());
        }
        catch (BundleException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (FormatException)
        {
            Console.Error.WriteLine("error: --public-key is not base64");
            return BadInput;
        }
        var trusted = new Dictionary<string, byte[]> { [Seals.KeyId(key)] = key };
        var v = ChainVerifier.Verify(bundle.Stream, bundle.Events, trusted, bundle.EventCount);
        return Print(bundle.Stream, v.Ok, v.EventsChecked, v.BrokenAt, v.Problem, v.Sealed, v.KeyId, v.HeadHash);
    }

    private static int Print(string id, bool ok, long checkedCount, long brokenAt, string? problem, bool isSealed, string? keyId, string head)
    {
        if (!ok)
        {
            Console.WriteLine($"BROKEN at event {brokenAt}: {problem}");
            return Broken;
        }
        Console.WriteLine($"OK: attempt {id}: {checkedCount} events verified; " +
                          (isSealed ? $"sealed by key {keyId}" : "not sealed (attempt still running)") + $"; head {head}");
        return Verified;
    }
}
