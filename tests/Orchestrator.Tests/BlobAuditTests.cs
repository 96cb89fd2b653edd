using System.Text.Json;
using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The content-addressed blob store on the real PostgreSQL: payloads written with the events that reference them,
/// served by digest after re-hashing, and checked by verification and by both offline verifiers. Each attempt here:
/// scheduled (1), started (2), model call with request and response blobs (3), file write with its content blob (4),
/// failed (5), sealed (6).
/// </summary>
public sealed class BlobAuditTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private readonly AuditFixtures _f = new(host);
    private string _dir => Folder;

    private async Task<(Guid Id, string Request, string Response, string Content)> AttemptAsync() =>
        await _f.AttemptWithBlobsAsync((await _f.CampaignAsync(1)).Attempts[0]);

    private Task<ChainReport> VerifyAsync(Guid id) => _f.Get<AttemptAuditor>().VerifyAsync(id, CancellationToken.None);

    private static string Sha(string s) => BlobReferences.Digest(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task Payloads_are_stored_with_their_events_and_served_by_digest()
    {
        var (id, request, response, content) = await AttemptAsync();
        var (events, _) = await _f.Get<AttemptAuditor>().ReadAsync(id, CancellationToken.None);
        Assert.Equal("model_call_completed", events[2].Type);
        using var call = JsonDocument.Parse(events[2].DataJson);
        var d = call.RootElement;
        Assert.Equal(Sha(request), d.GetProperty("RequestBlobSha256").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(request), d.GetProperty("RequestBlobSize").GetInt64());
        Assert.Equal(Sha(response), d.GetProperty("ResponseBlobSha256").GetString());
        Assert.True(d.GetProperty("RequestJson").GetString()!.Length <= RecordedPayloads.ModelCallPreviewChars + 1, "the inline request is a bounded preview");

        Assert.Equal(request, Encoding.UTF8.GetString((await _f.GetBlobAsync(Sha(request))).Content.ToByteArray()));
        Assert.Equal(response, Encoding.UTF8.GetString((await _f.GetBlobAsync(Sha(response))).Content.ToByteArray()));
        var file = await _f.GetBlobAsync(Sha(content).ToUpperInvariant());
        Assert.Equal(content, file.Content.ToStringUtf8());
        Assert.Equal(Sha(content), file.Sha256);

        var r = await VerifyAsync(id);
        Assert.True(r.Ok, r.Problem);
        Assert.Equal(3, r.BlobsChecked);
        Assert.True(r.Sealed);
    }

    [Fact]
    public async Task A_replaced_blob_is_located_and_never_served()
    {
        var (id, request, _, _) = await AttemptAsync();
        Assert.Equal(1, await _f.SqlAsync("update blobs set content = $1 where sha256 = $2", Encoding.UTF8.GetBytes("{\"messages\":[]}"), Sha(request)));
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(3, r.BrokenAt);
        Assert.Equal(Sha(request), r.BrokenBlob);
        Assert.Contains("altered", r.Problem);

        var e = await Assert.ThrowsAsync<RpcException>(() => _f.GetBlobAsync(Sha(request)));
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Contains(Sha(request), e.Status.Detail);
    }

    [Fact]
    public async Task A_deleted_blob_is_located()
    {
        var (id, _, _, content) = await AttemptAsync();
        Assert.Equal(1, await _f.SqlAsync("delete from blobs where sha256 = $1", Sha(content)));
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(4, r.BrokenAt);
        Assert.Equal(Sha(content), r.BrokenBlob);
        Assert.Contains("missing", r.Problem);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => _f.GetBlobAsync(Sha(content)))).StatusCode);
    }

    [Fact]
    public async Task GetBlob_rejects_a_malformed_digest()
    {
        foreach (var bad in new[] { "", "xyz", new string('g', 64), new string('a', 63) })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => _f.GetBlobAsync(bad));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("sha256", e.Status.Detail);
        }
    }

    [Fact]
    public async Task An_export_carries_its_blobs_and_a_tampered_blob_inside_is_located_by_both_verifiers()
    {
        var (id, _, response, _) = await AttemptAsync();
        var path = Path.Combine(_dir, "attempt.zip");
        await AuditBundles.WriteAttemptAsync(_f, id, path);
        var key = Convert.ToBase64String(_f.Get<PlatformKey>().Signer.PublicKey);

        var ok = await BundleVerifier.VerifyAsync(Bundle.Read(path), _f.Get<PlatformKey>().Trusted, CancellationToken.None);
        Assert.True(ok.Ok, ok.Problem);
        Assert.Equal(3, ok.BlobsChecked);
        var (code, output) = AuditFixtures.Python(path, key);
        Assert.True(code == 0, output);
        Assert.Contains("3 blob references", output);

        await using (var zip = await ZipFile.OpenAsync(path, ZipArchiveMode.Update))
        {
            zip.GetEntry(Bundle.BlobPrefix + Sha(response))!.Delete();
            await using var s = await zip.CreateEntry(Bundle.BlobPrefix + Sha(response)).OpenAsync();
            await s.WriteAsync(Encoding.UTF8.GetBytes("{\"choices\":[]}"));
        }
        var broken = await BundleVerifier.VerifyAsync(Bundle.Read(path), _f.Get<PlatformKey>().Trusted, CancellationToken.None);
        Assert.False(broken.Ok);
        Assert.Equal(3, broken.BrokenAt);
        Assert.Equal(Sha(response), broken.BrokenBlob);
        (code, output) = AuditFixtures.Python(path, key);
        Assert.Equal(1, code);
        Assert.Contains("BROKEN at event 3", output);
        Assert.Contains(Sha(response), output);
    }
}
