using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Blobs;

namespace ReBench.Orchestrator.Session;

/// <summary>
/// The full content of a recorded file write, for re-execution. ActionRequested keeps only the digest, the size and a
/// short preview: the content comes from the blob store under that digest, or, for a file small enough that the
/// preview is the whole of it, from the preview. Either way the bytes must hash to the recorded digest; anything else
/// is refused rather than replayed wrong.
/// </summary>
public sealed class RecordedContent(IBlobLookup? blobs = null)
{
    public const string FromBlob = "blob", FromPreview = "preview";

    public async Task<(byte[] Content, string Source)> ResolveAsync(Guid attemptId, ActionRequested write, CancellationToken ct)
    {
        var digest = write.ContentSha256 ?? "";
        if (blobs is not null && digest.Length > 0 && await blobs.TryGetAsync(digest, ct) is { } stored)
        {
            if (Matches(stored, digest)) return (stored, FromBlob);
            throw new DomainRejection(RejectionKind.FailedPrecondition,
                $"the blob store's content for {digest} (write step {write.StepId} of attempt {attemptId}) does not hash to its digest");
        }
        if (write.ContentPreview is { } preview)
        {
            var bytes = Encoding.UTF8.GetBytes(preview);
            if (bytes.LongLength == write.ContentSize && Matches(bytes, digest)) return (bytes, FromPreview);
        }
        throw new DomainRejection(RejectionKind.FailedPrecondition,
            $"the content of write step {write.StepId} of attempt {attemptId} ('{write.Path}', {write.ContentSize} bytes, sha256 {digest}) " +
            "is not in the blob store and its recorded preview is not the whole file; it cannot be re-executed");
    }

    private static bool Matches(byte[] content, string digest) =>
        string.Equals(Convert.ToHexStringLower(SHA256.HashData(content)), digest, StringComparison.OrdinalIgnoreCase);
}
