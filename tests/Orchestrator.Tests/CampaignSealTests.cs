using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Campaign seals on the real PostgreSQL: a campaign of two ended (sealed) attempts completes with campaign_sealed
/// over its head and its attempts' seals; VerifyCampaign and both offline verifiers locate tampering in the
/// campaign stream or inside one attempt. Campaign stream: created (1), two attempt_finished, completed, sealed (5).
/// </summary>
public sealed class CampaignSealTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private readonly AuditFixtures _f = new(host);
    private string _dir => Folder;

    private async Task<(Guid Campaign, Guid[] Attempts)> SealedCampaignAsync()
    {
        var (campaign, attempts) = await _f.CampaignAsync(2);
        foreach (var a in attempts)
        {
            await _f.AttemptWithBlobsAsync(a);
            // What the AttemptFinished consumer does; the real one may get there first, which makes this a no-op.
            await _f.Get<CampaignStore>().AppendAsync(campaign,
                s => CampaignDecider.RecordAttemptFinished(s, a, Guid.NewGuid(), "failed", null, AuditFixtures.T0), CancellationToken.None);
        }
        return (campaign, attempts);
    }

    private Task<CampaignReport> VerifyAsync(Guid id) => _f.Get<CampaignAuditor>().VerifyAsync(id, CancellationToken.None);

    [Fact]
    public async Task A_completed_campaign_is_sealed_over_its_attempts_seals_and_verifies()
    {
        var (campaign, attempts) = await SealedCampaignAsync();
        var events = await _f.Get<CampaignAuditor>().ReadAsync(campaign, CancellationToken.None);
        Assert.Equal(["campaign_created", "campaign_attempt_finished", "campaign_attempt_finished", "campaign_completed", "campaign_sealed"], events.Select(e => e.Type));
        var r = await VerifyAsync(campaign);
        Assert.True(r.Ok, r.Problem);
        Assert.True(r.Sealed);
        Assert.Equal(2, r.AttemptsChecked);
        Assert.Equal(6, r.BlobsChecked);
        Assert.Equal(_f.Get<PlatformKey>().KeyId, r.KeyId);
        Assert.Contains(attempts[1].ToString(), events[^1].DataJson);

        var e = await Assert.ThrowsAsync<DomainRejection>(() => _f.Get<CampaignStore>().AppendAsync(campaign,
            s => [new CampaignCompleted(campaign, 2, AuditFixtures.T0)], CancellationToken.None));
        Assert.Contains("sealed", e.Message);
    }

    [Fact]
    public async Task A_tampered_attempt_inside_a_sealed_campaign_is_located()
    {
        var (campaign, attempts) = await SealedCampaignAsync();
        await _f.SqlAsync("update mt_events set data = jsonb_set(data, '{Reason}', '\"rewritten\"') where stream_id = $1 and version = 5", attempts[1]);
        var r = await VerifyAsync(campaign);
        Assert.False(r.Ok);
        Assert.Equal(attempts[1].ToString(), r.BrokenAttempt);
        Assert.Equal(5, r.BrokenAt);
        Assert.Equal(1, r.AttemptsChecked);
    }

    [Fact]
    public async Task An_edited_campaign_event_is_located_in_the_campaign_stream()
    {
        var (campaign, _) = await SealedCampaignAsync();
        await _f.SqlAsync("update mt_events set data = jsonb_set(data, '{Status}', '\"completed\"') where stream_id = $1 and version = 2", campaign);
        var r = await VerifyAsync(campaign);
        Assert.False(r.Ok);
        Assert.Null(r.BrokenAttempt);
        Assert.Equal(2, r.BrokenAt);
    }

    [Fact]
    public async Task An_unknown_campaign_is_not_found()
    {
        var e = await Assert.ThrowsAsync<DomainRejection>(() => VerifyAsync(Guid.NewGuid()));
        Assert.Equal(RejectionKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task A_replaced_blob_in_a_campaign_export_is_located_in_its_attempt_by_both_verifiers()
    {
        var (campaign, attempts) = await SealedCampaignAsync();
        var path = Path.Combine(_dir, "campaign-blob.zip");
        await AuditBundles.WriteCampaignAsync(_f, campaign, path);
        // The file attempt 2 wrote at its event 4 (AuditFixtures.AttemptWithBlobsAsync).
        var digest = BlobReferences.Digest(Encoding.UTF8.GetBytes("print('hello from " + attempts[1] + "')\n"));
        await using (var zip = await ZipFile.OpenAsync(path, ZipArchiveMode.Update))
        {
            zip.GetEntry(Bundle.BlobPrefix + digest)!.Delete();
            await using var s = await zip.CreateEntry(Bundle.BlobPrefix + digest).OpenAsync();
            s.Write("print('something else')\n"u8);
        }
        var broken = await BundleVerifier.VerifyAsync(Bundle.Read(path), _f.Get<PlatformKey>().Trusted, CancellationToken.None);
        Assert.False(broken.Ok);
        Assert.Equal((attempts[1].ToString(), 4L, digest), (broken.BrokenAttempt, broken.BrokenAt, broken.BrokenBlob));
        var (code, output) = AuditFixtures.Python(path, Convert.ToBase64String(_f.Get<PlatformKey>().Signer.PublicKey));
        Assert.Equal(1, code);
        Assert.Contains($"BROKEN in attempt {attempts[1]} at event 4", output);
        Assert.Contains("altered", output);
    }

    [Fact]
    public async Task A_campaign_export_verifies_offline_and_a_tampered_attempt_inside_is_located_by_both_verifiers()
    {
        var (campaign, attempts) = await SealedCampaignAsync();
        var path = Path.Combine(_dir, "campaign.zip");
        await AuditBundles.WriteCampaignAsync(_f, campaign, path);
        var key = Convert.ToBase64String(_f.Get<PlatformKey>().Signer.PublicKey);
        var ok = await BundleVerifier.VerifyAsync(Bundle.Read(path), _f.Get<PlatformKey>().Trusted, CancellationToken.None);
        Assert.True(ok.Ok, ok.Problem);
        Assert.Equal(2, ok.AttemptsChecked);
        var (code, output) = AuditFixtures.Python(path, key);
        Assert.True(code == 0, output);
        Assert.Contains("5 events and 2 attempts verified", output);

        // A careful forger: edits attempt 2's event 2 and fixes the manifest's digest of that file.
        var name = Bundle.AttemptFile(attempts[1].ToString());
        await using (var zip = await ZipFile.OpenAsync(path, ZipArchiveMode.Update))
        {
            string Read(string n) { using var r = new StreamReader(zip.GetEntry(n)!.Open()); return r.ReadToEnd(); }
            var lines = Read(name).TrimEnd('\n').Split('\n');
            var record = JsonNode.Parse(lines[1])!.AsObject();
            record["data"]!["Node"] = "another-node";
            lines[1] = record.ToJsonString();
            var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
            var manifest = JsonNode.Parse(Read(Bundle.ManifestFile))!;
            manifest["files"]![name]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            void Write(string n, byte[] content) { zip.GetEntry(n)!.Delete(); using var s = zip.CreateEntry(n).Open(); s.Write(content); }
            Write(name, bytes);
            Write(Bundle.ManifestFile, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        }
        var broken = await BundleVerifier.VerifyAsync(Bundle.Read(path), _f.Get<PlatformKey>().Trusted, CancellationToken.None);
        Assert.False(broken.Ok);
        Assert.Equal(attempts[1].ToString(), broken.BrokenAttempt);
        Assert.Equal(2, broken.BrokenAt);
        (code, output) = AuditFixtures.Python(path, key);
        Assert.Equal(1, code);
        Assert.Contains($"BROKEN in attempt {attempts[1]} at event 2", output);
    }
}
