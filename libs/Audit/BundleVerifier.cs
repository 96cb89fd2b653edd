namespace ReBench.Audit;

/// <summary>
/// Checks an export bundle offline (docs/audit.md): an attempt bundle's chain, seal and blobs; a campaign bundle's
/// campaign stream, seal and every attempt in it. Blobs come from the archive's blobs/ entries.
/// </summary>
public static class BundleVerifier
{
    public static CampaignReport Verify(AuditBundle bundle, IReadOnlyDictionary<string, byte[]> trusted)
    {
        Task<byte[]?> Blob(string digest, CancellationToken _) => Task.FromResult(bundle.Blobs.GetValueOrDefault(digest));
        if (bundle.Kind == "campaign")
        {
            var attempts = bundle.Attempts.ToDictionary(a => a.AttemptId);
            return CampaignVerifier.VerifyAsync(bundle.Stream, bundle.Events, bundle.EventCount, trusted,
                (id, _) => Task.FromResult(attempts.GetValueOrDefault(id)), Blob, CancellationToken.None).GetAwaiter().GetResult();
        }
        var r = ChainVerifier.Verify(bundle.Stream, bundle.Events, trusted, bundle.EventCount);
        r = r.WithBlobs(BlobReferences.CheckAsync(r.Verified(bundle.Events), Blob, CancellationToken.None).GetAwaiter().GetResult());
        return new CampaignReport(r.Ok, r.EventsChecked, r.BrokenAt, r.Problem, null, r.BrokenBlob, r.Sealed, r.KeyId, r.HeadHash, 0)
        {
            BlobsChecked = r.BlobsChecked,
        };
    }
}
