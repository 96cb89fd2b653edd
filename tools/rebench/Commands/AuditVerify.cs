using ReBench.Audit;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench verify --campaign`: the campaign's chain and seal, every attempt's chain, seal and blobs, and the results
/// store against the sealed record (each row that differs named with its field, stored and sealed values).
/// </summary>
internal static class AuditVerify
{
    public static async Task<int> CampaignAsync(ParseResult r, string campaignId, CancellationToken ct)
    {
        using var client = CliApp.Client(r);
        // An unknown campaign (NOT_FOUND) or a malformed id goes to the central exit-code mapping (4 or 2).
        var v = await client.Audit.VerifyCampaignAsync(new VerifyCampaignRequest { CampaignId = campaignId }, cancellationToken: ct);
        // The chain's verdict as for an offline bundle (a broken chain always names its event), then the results
        // store's, which only the live platform has.
        var chainBroken = v.BrokenAt != 0;
        var code = PrintCampaign(campaignId, new CampaignReport(!chainBroken, v.EventsChecked, v.BrokenAt, chainBroken ? v.Problem : null,
            v.BrokenAttemptId is { Length: > 0 } a ? a : null, v.BrokenBlobSha256 is { Length: > 0 } b ? b : null, v.Sealed, v.KeyId,
            v.HeadHash, v.AttemptsChecked) { UnsealedReason = v.UnsealedReason is { Length: > 0 } why ? why : null });
        var resultsOk = PrintResults(v);
        return code == AuditCommands.Verified && resultsOk && v.Ok ? AuditCommands.Verified : AuditCommands.Broken;
    }

    /// <summary>The results store against the sealed record; true when every stored row matched.</summary>
    private static bool PrintResults(VerifyCampaignResponse v)
    {
        if (!v.ResultsChecked)
        {
            Console.WriteLine($"RESULTS NOT CHECKED: {v.ResultsProblem}");
            return false;
        }
        var unbound = v.ResultsUnbound > 0 ? $" ({v.ResultsUnbound} unbound: stored before results carried their final event number and chain hash)" : "";
        if (v.ResultDifferences.Count == 0)
        {
            Console.WriteLine($"OK: results store: {v.ResultRowsChecked} row(s) match the sealed record{unbound}");
            return true;
        }
        var rows = v.ResultDifferences.Select(d => d.AttemptId).Distinct().Count();
        Console.WriteLine($"RESULTS DIFFER from the sealed record: {rows} row(s){unbound}:");
        foreach (var d in v.ResultDifferences)
            Console.WriteLine(d.Field == "row"
                ? $"  attempt {d.AttemptId}: row {d.Stored}; sealed record: {d.Sealed}"
                : $"  attempt {d.AttemptId}: {d.Field}: stored {d.Stored}, sealed {d.Sealed}");
        return false;
    }

    public static int PrintCampaign(string campaignId, CampaignReport v)
    {
        if (!v.Ok)
        {
            Console.WriteLine(v.BrokenAttempt is { } attempt
                ? $"BROKEN in attempt {attempt} at event {v.BrokenAt}: {v.Problem}"
                : $"BROKEN at campaign event {v.BrokenAt}: {v.Problem}");
            return AuditCommands.Broken;
        }
        Console.WriteLine($"OK: campaign {campaignId}: {v.EventsChecked} campaign events and {v.AttemptsChecked} attempts verified" +
                          (v.CorrectionsChecked > 0 ? $", {v.CorrectionsChecked} corrections (chained, not signed)" : "") + "; " +
                          (v.Sealed ? $"sealed by key {v.KeyId}" : $"not sealed: {v.UnsealedReason ?? "the reason is not known (a server older than unsealed_reason)"}") + $"; head {v.HeadHash}");
        return AuditCommands.Verified;
    }
}
