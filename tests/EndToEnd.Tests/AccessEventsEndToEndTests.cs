namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Every read of an attempt's content leaves an access event naming the caller (issue 16, finding 4), through the
/// real gateway and services: a blob read by digest alone, verification, campaign export and verification, the step
/// history and the replay driver's recorded actions. Then `rebench audit access` filters them, a tampered event
/// breaks the log's chain, and no service's log holds a key (finding 6).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AccessEventsEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string Auditor = PlatformProcesses.AuditorKeyId;

    [Fact]
    public async Task Every_read_of_an_attempts_content_is_recorded_with_the_callers_principal_and_role()
    {
        var admin = Platform.Orchestrator();
        var auditor = Platform.Orchestrator(PlatformProcesses.AuditorKey);
        // Content of its own, so that no other test's attempt references the blob.
        var content = $"access e2e {Guid.NewGuid():N}";
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
        var request = Scripted.Campaign("access-e2e", TimeSpan.FromMinutes(3),
            new { write = "notes.txt", content }, new { run = "cat notes.txt" }, new { submit = "done" });
        request.AttemptsPerPair = 2;
        var campaign = await admin.Campaigns.CreateCampaignAsync(request);
        var attempts = await Waits.CampaignFinishedAsync(admin, campaign.CampaignId, TimeSpan.FromMinutes(5));
        Assert.Equal(2, attempts.Count);
        var (first, second) = (attempts[0].AttemptId, attempts[1].AttemptId);

        // Control: the auditor has read nothing yet, so none of the events below can have been there before.
        foreach (var id in new[] { first, second })
            Assert.DoesNotContain((await AccessAsync(admin, id)).Events, e => e.Principal == Auditor);
        var historyBefore = (await AccessAsync(admin, first)).Events.Count(e => e.Method == "GetStepHistory");

        // A written file read by digest alone: recorded on both attempts that wrote it.
        var blob = await auditor.Audit.GetBlobAsync(new GetBlobRequest { Sha256 = digest });
        Assert.Equal(content, blob.Content.ToStringUtf8());
        foreach (var id in new[] { first, second })
            Assert.Contains((await AccessAsync(admin, id)).Events, e => Is(e, Auditor, "auditor", "GetBlob", $"sha256={digest}"));
        // A digest no attempt references: NOT_FOUND from the method, nothing recorded anywhere.
        var missing = await Assert.ThrowsAsync<RpcException>(() => auditor.Audit.GetBlobAsync(new GetBlobRequest { Sha256 = new string('0', 64) }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        // Verification reads every event and blob: recorded on that attempt only.
        Assert.True((await auditor.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = first })).Ok);
        Assert.Contains((await AccessAsync(admin, first)).Events, e => Is(e, Auditor, "auditor", "VerifyAttempt", ""));
        Assert.DoesNotContain((await AccessAsync(admin, second)).Events, e => e.Method == "VerifyAttempt");

        // Campaign reads: one event on each attempt of the campaign.
        using (var export = auditor.Audit.ExportCampaign(new ExportCampaignRequest { CampaignId = campaign.CampaignId }))
            await foreach (var _ in export.ResponseStream.ReadAllAsync()) { }
        Assert.True((await auditor.Audit.VerifyCampaignAsync(new VerifyCampaignRequest { CampaignId = campaign.CampaignId })).Ok);
        foreach (var id in new[] { first, second })
        {
            var events = (await AccessAsync(admin, id)).Events;
            Assert.Contains(events, e => Is(e, Auditor, "auditor", "ExportCampaign", $"campaign={campaign.CampaignId}"));
            Assert.Contains(events, e => Is(e, Auditor, "auditor", "VerifyCampaign", $"campaign={campaign.CampaignId}"));
        }

        // The step history through the gateway's internal listener, with the attempt's own session credential: the
        // attempt has ended, so the read is refused and nothing was read (a session read is recorded once it passes).
        var ended = await Assert.ThrowsAsync<RpcException>(() =>
            Platform.Session(Platform.CredentialOf(first)).GetStepHistoryAsync(new GetStepHistoryRequest { AttemptId = first }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ended.StatusCode);
        var historyReads = (await AccessAsync(admin, first)).Events.Where(e => e.Method == "GetStepHistory").ToList();
        Assert.Equal(historyBefore, historyReads.Count);

        // A re-execution by the auditor: the request, and the replay driver's reads of the recorded actions, are
        // recorded on the source attempt; the detail names the attempt that replays it.
        var rerun = await auditor.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = first });
        await Waits.CampaignFinishedAsync(admin, rerun.CampaignId, TimeSpan.FromMinutes(5));
        var sourceEvents = (await AccessAsync(admin, first)).Events;
        Assert.Contains(sourceEvents, e => Is(e, Auditor, "auditor", "ReexecuteAttempt", ""));
        var replayed = sourceEvents.Where(e => e.Method == "GetRecordedActions").ToList();
        Assert.NotEmpty(replayed);
        Assert.All(replayed, e => Assert.StartsWith($"for_attempt={rerun.AttemptId}", e.Detail));
        Assert.All(replayed, e => Assert.False(string.IsNullOrEmpty(e.Principal)));
        Assert.DoesNotContain((await AccessAsync(admin, second)).Events, e => e.Method == "GetRecordedActions");

        // The CLI lists them, filtered by principal and method, and the chain verifies.
        var (code, text) = await CliAsync("audit", "access", second, "--principal", Auditor, "--method", "GetBlob");
        Assert.True(code == 0, text);
        Assert.Contains(digest, text);
        Assert.DoesNotContain("ExportCampaign", text);
        Assert.Contains("1 access event(s)", text);
        Assert.Contains("chain verified", text);
        (code, text) = await CliAsync("audit", "access", "--campaign", campaign.CampaignId, "--method", "VerifyCampaign");
        Assert.True(code == 0, text);
        Assert.Contains(first, text);
        Assert.Contains(second, text);
        Assert.Contains("2 access event(s)", text);

        // Someone with database access hides who read the blob: the chain no longer verifies, and the CLI says so.
        await using (var db = new NpgsqlConnection(TestEnv.PostgresConnectionString))
        {
            await db.OpenAsync();
            await using var edit = new NpgsqlCommand(
                $"update \"{Platform.Schema}\".mt_events set data = jsonb_set(data, '{{Principal}}', '\"nobody\"') " +
                "where type = 'transcript_accessed' and data ->> 'AttemptId' = $1 and data ->> 'Method' = 'GetBlob'", db);
            edit.Parameters.Add(new NpgsqlParameter { Value = second });
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }
        Assert.False((await AccessAsync(admin, second)).ChainOk);
        (code, text) = await CliAsync("audit", "access", second);
        Assert.True(code == 1, text);
        Assert.Contains("BROKEN", text);
        // Control: the other attempt's log was not touched and still verifies.
        Assert.True((await AccessAsync(admin, first)).ChainOk);

        AssertNoSecretInLogs();
    }

    /// <summary>
    /// After the run above (and whatever else the collection ran): the keys of both roles, the model provider's key
    /// and the seal key appear in none of the five services' logs.
    /// </summary>
    private void AssertNoSecretInLogs()
    {
        foreach (var service in new[] { "sandbox", "scoring", "agents", "orchestrator", "gateway" })
        {
            var path = Path.Combine(Platform.LogsDir, $"{service}.log");
            Assert.True(File.Exists(path), path);
            var log = File.ReadAllText(path);
            Assert.NotEmpty(log);
            foreach (var secret in new[] { PlatformProcesses.ApiKey, PlatformProcesses.AuditorKey, PlatformProcesses.LlmApiKey, PlatformProcesses.SigningKey })
                Assert.False(log.Contains(secret, StringComparison.Ordinal), $"{service}.log contains a secret ({secret[..4]}...)");
        }
    }

    private static bool Is(AccessEvent e, string principal, string role, string method, string detail) =>
        (e.Principal, e.Role, e.Method, e.Detail) == (principal, role, method, detail);

    private static async Task<ListAccessEventsResponse> AccessAsync(OrchestratorClients client, string attemptId) =>
        await client.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = attemptId });

    private Task<(int, string)> CliAsync(params string[] args) =>
        Cli.RebenchAsync(output, Platform, PlatformProcesses.AuditorKey, TimeSpan.FromMinutes(2), args);
}
