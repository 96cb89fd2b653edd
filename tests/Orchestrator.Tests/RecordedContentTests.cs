namespace ReBench.Orchestrator.Tests;

/// <summary>Where a re-execution gets a recorded write's full content, and when it refuses.</summary>
public sealed class RecordedContentTests
{
    private static readonly Guid Attempt = Guid.NewGuid();

    private static ActionRequested Write(byte[] content) => new(Attempt, $"{Attempt}:1", "write_file", null, "solution.py",
        Convert.ToHexStringLower(SHA256.HashData(content)), content.Length, StoredText.Preview(content), 0, "agent", DateTimeOffset.UnixEpoch);

    private sealed class Blobs(Dictionary<string, byte[]> stored) : IBlobLookup
    {
        public Task<byte[]?> TryGetAsync(string sha256, CancellationToken ct) => Task.FromResult(stored.GetValueOrDefault(sha256));
    }

    [Fact]
    public async Task A_small_file_whose_preview_is_the_whole_content_needs_no_blob()
    {
        var content = Encoding.UTF8.GetBytes("print('hello')\n");
        var (bytes, source) = await new RecordedContent().ResolveAsync(Attempt, Write(content), CancellationToken.None);
        Assert.Equal(content, bytes);
        Assert.Equal(RecordedContent.FromPreview, source);
    }

    [Fact]
    public async Task A_large_file_comes_from_the_blob_store_and_without_it_is_refused_naming_the_step()
    {
        var content = Encoding.UTF8.GetBytes(new string('x', 2000));
        var write = Write(content);
        var (bytes, source) = await new RecordedContent(new Blobs(new() { [write.ContentSha256!] = content }))
            .ResolveAsync(Attempt, write, CancellationToken.None);
        Assert.Equal(content, bytes);
        Assert.Equal(RecordedContent.FromBlob, source);

        var e = await Assert.ThrowsAsync<DomainRejection>(() => new RecordedContent(new Blobs([])).ResolveAsync(Attempt, write, CancellationToken.None));
        Assert.Equal(RejectionKind.FailedPrecondition, e.Kind);
        Assert.Contains($"write step {Attempt}:1", e.Message);
        Assert.Contains("2000 bytes", e.Message);
    }

    [Fact]
    public async Task Content_that_does_not_hash_to_the_recorded_digest_is_never_replayed()
    {
        var content = Encoding.UTF8.GetBytes(new string('x', 2000));
        var write = Write(content);
        var tampered = new RecordedContent(new Blobs(new() { [write.ContentSha256!] = Encoding.UTF8.GetBytes(new string('y', 2000)) }));
        var e = await Assert.ThrowsAsync<DomainRejection>(() => tampered.ResolveAsync(Attempt, write, CancellationToken.None));
        Assert.Contains("does not hash to its digest", e.Message);

        // A preview of the right size but other bytes (e.g. NUL replaced for storage) is not taken for the content.
        var binary = new byte[] { 0x61, 0x00, 0x62 };
        var cleaned = Write(binary) with { ContentPreview = "a\uFFFDb" };
        await Assert.ThrowsAsync<DomainRejection>(() => new RecordedContent().ResolveAsync(Attempt, cleaned, CancellationToken.None));
    }
}
