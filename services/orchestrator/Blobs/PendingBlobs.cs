using ReBench.Audit;

namespace ReBench.Orchestrator.Blobs;

/// <summary>
/// Payloads to store with the events that reference them: the append writes those referenced by the events it
/// actually appends, in the same transaction, so an event never references a blob that was not committed.
/// </summary>
public sealed class PendingBlobs
{
    private readonly Dictionary<string, byte[]> _byDigest = new(StringComparer.Ordinal);

    /// <summary>Adds content and returns its digest (lower-case hex SHA-256).</summary>
    public string Add(byte[] content)
    {
        var digest = BlobReferences.Digest(content);
        _byDigest.TryAdd(digest, content);
        return digest;
    }

    public bool TryGet(string digest, out byte[] content) => _byDigest.TryGetValue(digest, out content!);

    public int Count => _byDigest.Count;
}
