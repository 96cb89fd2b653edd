namespace ReBench.EndToEnd.Tests;

/// <summary>
/// `rebench verify`, `rebench export` and `rebench verify --offline` as an auditor runs them: the built CLI as a
/// process against the gateway, and the export checked again by the independent Python verifier.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AuditEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform), IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-audit-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_auditor_verifies_exports_and_verifies_offline_with_the_cli()
    {
        var client = Platform.Orchestrator();
        var script = string.Join('\n', new object[] { new { run = "echo audited" }, new { submit = "done" } }.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "audit", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        var key = (await client.Audit.GetPublicKeyAsync(new GetPublicKeyRequest())).Current;
        Assert.Equal("Ed25519", key.Algorithm);
        var keyB64 = Convert.ToBase64String(key.PublicKey_.ToByteArray());

        var (code, text) = await CliAsync("verify", attempt.AttemptId);
        Assert.True(code == 0, text);
        Assert.Contains($"sealed by key {key.KeyId}", text);

        var bundle = Path.Combine(_dir, "attempt.zip");
        (code, text) = await CliAsync("export", attempt.AttemptId, "-o", bundle);
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("verify", "--offline", bundle, "--public-key", keyB64);
        Assert.True(code == 0, text);
        Assert.Contains($"{attempt.EventCount} events verified", text);
        (code, text) = await RunAsync("/usr/bin/python3", Path.Combine(TestEnv.RepoRoot, "tools", "audit", "verify_bundle.py"), bundle, "--public-key", keyB64);
        Assert.True(code == 0, text);

        // Corrections travel with the export, chained, and both verifiers check them; an edited one is found.
        (code, text) = await CliAsync("audit", "correct", attempt.AttemptId, "--kind", "note", "--reason", "first look");
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("audit", "correct", attempt.AttemptId, "--kind", "score_invalid", "--reason", "scorer bug 17");
        Assert.True(code == 0, text);
        var corrected = Path.Combine(_dir, "corrected.zip");
        (code, text) = await CliAsync("export", attempt.AttemptId, "-o", corrected);
        Assert.True(code == 0, text);
        Assert.Contains("2 corrections", text);
        (code, text) = await CliAsync("verify", "--offline", corrected, "--public-key", keyB64);
        Assert.True(code == 0, text);
        Assert.Contains("2 corrections (chained, not signed)", text);
        (code, text) = await RunAsync("/usr/bin/python3", Path.Combine(TestEnv.RepoRoot, "tools", "audit", "verify_bundle.py"), corrected, "--public-key", keyB64);
        Assert.True(code == 0, text);
        Assert.Contains("2 corrections (chained, not signed)", text);
        var edited = Path.Combine(_dir, "edited.zip");
        File.Copy(corrected, edited);
        BundleTamper.RewriteEntry(edited, $"corrections/{attempt.AttemptId}.jsonl", t => t.Replace("scorer bug 17", "scorer bug 71"));
        (code, text) = await CliAsync("verify", "--offline", edited, "--public-key", keyB64);
        Assert.True(code == 1, text);
        Assert.Contains($"BROKEN at event 2: in the corrections of attempt {attempt.AttemptId}: event 2 (attempt_correction_recorded) does not match its chain hash", text);
        (code, text) = await RunAsync("/usr/bin/python3", Path.Combine(TestEnv.RepoRoot, "tools", "audit", "verify_bundle.py"), edited, "--public-key", keyB64);
        Assert.True(code == 1, text);
        Assert.Contains($"BROKEN at event 2: in the corrections of attempt {attempt.AttemptId}", text);

        // The campaign is sealed over its attempt's seal when the consumer records the attempt's end (asynchronous: poll).
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        VerifyCampaignResponse verified;
        while (!(verified = await client.Audit.VerifyCampaignAsync(new VerifyCampaignRequest { CampaignId = campaign.CampaignId })).Sealed && DateTime.UtcNow < until)
            await Task.Delay(500);
        Assert.True(verified.Ok && verified.Sealed, verified.Problem);
        (code, text) = await CliAsync("verify", "--campaign", campaign.CampaignId);
        Assert.True(code == 0, text);
        Assert.Contains("1 attempts verified", text);
        var campaignBundle = Path.Combine(_dir, "campaign.zip");
        (code, text) = await CliAsync("export", "--campaign", campaign.CampaignId, "-o", campaignBundle);
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("verify", "--offline", campaignBundle, "--public-key", keyB64);
        Assert.True(code == 0, text);
        Assert.Contains("1 attempts verified, 2 corrections", text);
        (code, text) = await RunAsync("/usr/bin/python3", Path.Combine(TestEnv.RepoRoot, "tools", "audit", "verify_bundle.py"), campaignBundle, "--public-key", keyB64);
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("verify", "--campaign", Guid.NewGuid().ToString());
        Assert.True(code == 4, text);

        // Not found: exit 4; bad input: exit 2; each with a message naming the problem.
        (code, text) = await CliAsync("verify", Guid.NewGuid().ToString());
        Assert.True(code == 4, text);
        Assert.Contains("does not exist", text);
        var notABundle = Path.Combine(_dir, "notes.txt");
        await File.WriteAllTextAsync(notABundle, "hello");
        (code, text) = await CliAsync("verify", "--offline", notABundle);
        Assert.True(code == 2, text);
        Assert.Contains("not an audit bundle", text);
        (code, text) = await CliAsync("export", Guid.NewGuid().ToString(), "-o", Path.Combine(_dir, "unknown.zip"));
        Assert.True(code == 4, text);
        Assert.Contains("does not exist", text);
    }

    private Task<(int, string)> CliAsync(params string[] args) =>
        Cli.RebenchAsync(output, Platform, PlatformProcesses.ApiKey, TimeSpan.FromMinutes(2), args);

    private Task<(int, string)> RunAsync(string file, params string[] args) => Cli.RunAsync(output, TimeSpan.FromMinutes(2), file, args);
}
