namespace ReBench.Audit;

/// <summary>
/// Checks an export bundle offline (docs/audit.md): an attempt bundle's chain, seal and blobs; a campaign bundle's
/// campaign stream, seal and every attempt in it. Blobs come from the archive's blobs/ entries.
/// </summary>
public static class BundleVerifier
{
    public static async Task<CampaignReport> VerifyAsync(AuditBundle bundle, IReadOnlyDictionary<string, byte[]> trusted, CancellationToken ct)
    {
        var report = await VerifyHistoryAsync(bundle, trusted, ct);
        return report.Ok ? WithCorrections(report, bundle, trusted) : report;
    }

    /// <summary>
    /// The corrections streams, after the history they correct verified: each must belong to an attempt of the
    /// bundle and verify on its own (chained, unsealed: see docs/audit.md on what that can and cannot show).
    /// </summary>
    private static CampaignReport WithCorrections(CampaignReport report, AuditBundle bundle, IReadOnlyDictionary<string, byte[]> trusted)
    {
        var attempts = bundle.Kind == "campaign" ? bundle.Attempts.Select(a => a.AttemptId).ToHashSet() : [bundle.Stream];
        long checkedCount = 0;
        foreach (var c in bundle.Corrections)
        {
            if (!attempts.Contains(c.AttemptId))
                return report with { Ok = false, BrokenAt = 1, BrokenAttempt = c.AttemptId, Problem = $"the bundle has corrections of attempt {c.AttemptId}, which it does not hold" };
            var r = CorrectionStreams.Verify(c, trusted);
            if (!r.Ok)
            {
                return report with
                {
                    Ok = false, BrokenAt = r.BrokenAt, BrokenAttempt = bundle.Kind == "campaign" ? c.AttemptId : null,
                    Problem = $"in the corrections of attempt {c.AttemptId}: {r.Problem}",
                };
            }
            checkedCount += r.EventsChecked;
        }
        return report with { CorrectionsChecked = checkedCount };
    }

    private static async Task<CampaignReport> VerifyHistoryAsync(AuditBundle bundle, IReadOnlyDictionary<string, byte[]> trusted, CancellationToken ct)
    {
        Task<byte[]?> BlobAsync(string digest, CancellationToken _) => Task.FromResult(bundle.Blobs.GetValueOrDefault(digest));
        if (bundle.Kind == "campaign")
        {
            var attempts = bundle.Attempts.ToDictionary(a => a.AttemptId);
            return await CampaignVerifier.VerifyAsync(bundle.Stream, bundle.Events, bundle.EventCount, trusted,
                (id, _) => Task.FromResult(attempts.GetValueOrDefault(id)), BlobAsync, ct);
        }
        var r = ChainVerifier.Verify(bundle.Stream, bundle.Events, trusted, bundle.EventCount);
        r = r.WithBlobs(await BlobReferences.CheckAsync(r.Verified(bundle.Events), BlobAsync, ct));
        return new CampaignReport(r.Ok, r.EventsChecked, r.BrokenAt, r.Problem, null, r.BrokenBlob, r.Sealed, r.KeyId, r.HeadHash, 0)
        {
            BlobsChecked = r.BlobsChecked,
        };
    }
}
