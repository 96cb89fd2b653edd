using ReBench.Audit;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench verify` and `rebench export` (docs/audit.md). Exit codes scripts can test: 0 verified, 1 the history
/// is broken (the first broken link is printed with its event number), 2 bad input (unreadable file), 4 unknown attempt
/// or campaign (<see cref="ExitCodes"/>).
/// </summary>
internal static class AuditCommands
{
    public const int Verified = ExitCodes.Ok, Broken = ExitCodes.CheckFailed, BadInput = ExitCodes.BadInput;

    public static Command Verify()
    {
        var target = new Argument<string?>("target") { Description = "attempt id, or with --offline an exported bundle file", Arity = ArgumentArity.ZeroOrOne };
        var offline = new Option<bool>("--offline") { Description = "check an exported bundle (attempt or campaign) with no platform running" };
        var campaign = new Option<string?>("--campaign") { Description = "verify a campaign: its chain and seal and every attempt's" };
        var publicKey = new Option<string?>("--public-key") { Description = "with --offline: the platform's public key (base64) to pin" };
        var verify = new Command("verify", "check an attempt's (or campaign's) hash chain, seal and blobs; exit 0 ok, 1 broken, 2 bad input, 4 not found")
            { target, offline, campaign, publicKey };
        verify.SetAction(async (r, ct) =>
        {
            if (r.GetValue(offline)) return r.GetValue(target) is { } path ? await VerifyOfflineAsync(path, r.GetValue(publicKey), ct) : Usage("verify --offline needs a bundle file");
            if (r.GetValue(campaign) is { } campaignId) return await AuditVerify.CampaignAsync(r, campaignId, ct);
            return r.GetValue(target) is { } attemptId ? await VerifyOnlineAsync(r, attemptId, ct) : Usage("verify needs an attempt id, --campaign <id> or --offline <file>");
        });
        return verify;
    }

    public static Command Export()
    {
        var attempt = new Argument<string?>("attempt-id") { Arity = ArgumentArity.ZeroOrOne };
        var campaign = new Option<string?>("--campaign") { Description = "export a campaign: its events, every attempt's events and their blobs" };
        var output = new Option<FileInfo>("-o", "--output") { Description = "bundle file to write (zip)", Required = true };
        var export = new Command("export", "write an attempt's (or campaign's) events, blobs, seals and public key to one offline-verifiable file")
            { attempt, campaign, output };
        export.SetAction(async (r, ct) =>
        {
            if (r.GetValue(attempt) is null && r.GetValue(campaign) is null) return Usage("export needs an attempt id or --campaign <id>");
            // Checked before anything is fetched: a bundle that cannot be written is known now, not after the download.
            var dir = r.GetValue(output)!.Directory;
            if (dir is null || !dir.Exists) return Usage($"-o: directory '{Parsing.Quote(dir?.FullName)}' does not exist");
            using var client = CliApp.Client(r);
            return await AuditExport.ExportAsync(client, r.GetValue(attempt), r.GetValue(campaign), r.GetValue(output)!, ct);
        });
        return export;
    }

    internal static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }

    private static async Task<int> VerifyOnlineAsync(ParseResult r, string attemptId, CancellationToken ct)
    {
        using var client = CliApp.Client(r);
        var v = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = attemptId }, cancellationToken: ct);
        return Print($"attempt {attemptId}", v.Ok, v.EventsChecked, v.BrokenAt, v.Problem, v.Sealed, v.KeyId, v.HeadHash, v.BlobsChecked);
    }

    private static async Task<int> VerifyOfflineAsync(string path, string? pinnedKey, CancellationToken ct)
    {
        AuditBundle bundle;
        byte[] key;
        try
        {
            bundle = Bundle.Read(path);
            if (pinnedKey is null) await Console.Error.WriteLineAsync("warning: trusting the public key inside the bundle; pass --public-key to pin the platform's key");
            key = pinnedKey is null ? bundle.Key.PublicKey : Convert.FromBase64String(pinnedKey.Trim());
        }
        catch (BundleException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return BadInput;
        }
        catch (FormatException)
        {
            await Console.Error.WriteLineAsync("error: --public-key is not base64");
            return BadInput;
        }
        var trusted = new Dictionary<string, byte[]> { [Seals.KeyId(key)] = key };
        var v = await BundleVerifier.VerifyAsync(bundle, trusted, ct);
        if (bundle.Kind == "campaign") return AuditVerify.PrintCampaign(bundle.Stream, v);
        return Print($"attempt {bundle.Stream}", v.Ok, v.EventsChecked, v.BrokenAt, v.Problem, v.Sealed, v.KeyId, v.HeadHash, v.BlobsChecked,
            bundle.Corrections.Count > 0 ? $"; {v.CorrectionsChecked} corrections (chained, not signed)" : "");
    }

    internal static int Print(string what, bool ok, long checkedCount, long brokenAt, string? problem, bool isSealed, string? keyId, string head, long blobs,
        string corrections = "")
    {
        if (!ok)
        {
            Console.WriteLine($"BROKEN at event {brokenAt}: {problem}");
            return Broken;
        }
        Console.WriteLine($"OK: {what}: {checkedCount} events verified, {blobs} blob references{corrections}; " +
                          (isSealed ? $"sealed by key {keyId}" : "not sealed (still running)") + $"; head {head}");
        return Verified;
    }
}
