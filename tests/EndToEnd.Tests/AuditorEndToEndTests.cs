namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The auditor role, access events, provenance and the replay view through the five real services: an attempt run
/// with an admin key, then read by an auditor key that may read and export but not change anything.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AuditorEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform), IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-auditor-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_auditor_reads_is_recorded_and_cannot_change_anything()
    {
        var admin = Platform.Orchestrator();
        var script = string.Join('\n', new object[]
        {
            new { write = "notes.txt", content = "hello" }, new { run = "cat notes.txt" }, new { submit = "done" },
        }.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await admin.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "auditor", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(admin, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        var id = attempt.AttemptId;

        var auditor = Platform.Orchestrator(PlatformProcesses.AuditorKey);
        var seen = await auditor.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id });
        var p = seen.Provenance;
        Assert.NotNull(p);
        Assert.Equal(("ai_rd_triton_cumsum", "cpu", "scripted"), (p.TaskId, p.Variant, p.Agent));
        Assert.Equal(attempt.BundleDigest, p.BundleDigest);
        Assert.Equal(("none", 0, "none"), (p.GpuModel, p.GpuCount, p.GpuDriverVersion));
        Assert.StartsWith("local", p.SandboxDriver);
        Assert.Equal(180, p.TimeBudgetSeconds);
        Assert.Matches("^[0-9a-f]{64}$", p.GenerationSettings["script_sha256"]);

        var events = 0;
        using (var read = auditor.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = id }))
            await foreach (var _ in read.ResponseStream.ReadAllAsync()) events++;
        Assert.Equal(attempt.EventCount, events);

        var denied = await Assert.ThrowsAsync<RpcException>(() =>
            auditor.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = id, Reason = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("role auditor may not call Attempts/CancelAttempt", denied.Status.Detail);
        denied = await Assert.ThrowsAsync<RpcException>(() => auditor.Campaigns.CreateCampaignAsync(new CreateCampaignRequest { Name = "no" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var access = await auditor.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = id });
        Assert.Contains(access.Events, e => (e.Principal, e.Role, e.Method) == (PlatformProcesses.AuditorKeyId, "auditor", "ReadAttemptEvents"));
        // The sealed attempt still verifies after it was read.
        Assert.True((await auditor.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = id })).Ok);

        // The CLI as an auditor: replay state at the end, provenance of an attempt against itself, the access log.
        var (code, text) = await CliAsync("replay", id, "--at", attempt.EventCount.ToString(), "--format", "json");
        Assert.True(code == 0, text);
        using (var state = JsonDocument.Parse(text))
        {
            Assert.Equal("completed", state.RootElement.GetProperty("status").GetString());
            Assert.Equal("notes.txt", state.RootElement.GetProperty("files")[0].GetProperty("path").GetString());
        }
        (code, text) = await CliAsync("replay", id, "--at", (attempt.EventCount + 1).ToString());
        Assert.True(code == 2, text);
        (code, text) = await CliAsync("replay", id, "--kind", "action");
        Assert.True(code == 0, text);
        Assert.Contains("cat notes.txt", text);
        (code, text) = await CliAsync("diff-provenance", id, id);
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("diff-provenance", id, Guid.NewGuid().ToString());
        Assert.True(code == 4, text);
        (code, text) = await CliAsync("audit", "access", id);
        Assert.True(code == 0, text);
        Assert.Contains(PlatformProcesses.AuditorKeyId, text);
        Assert.Contains("access event(s); chain verified", text);

        // Corrections: an admin records one (a new event; the sealed history stays as it was), an auditor may only read them.
        (code, text) = await CliAsKeyAsync(PlatformProcesses.ApiKey, "audit", "correct", id, "--kind", "note", "--reason", "reviewed by e2e");
        Assert.True(code == 0, text);
        (code, text) = await CliAsync("audit", "correct", id, "--kind", "note", "--reason", "auditors may not");
        Assert.True(code == 3, text);
        Assert.Contains("role auditor may not call Audit/RecordCorrection", text);
        (code, text) = await CliAsync("audit", "corrections", id, "--format", "json");
        Assert.True(code == 0, text);
        using (var corrections = JsonDocument.Parse(text))
        {
            Assert.True(corrections.RootElement.GetProperty("chain_ok").GetBoolean());
            var only = Assert.Single(corrections.RootElement.GetProperty("corrections").EnumerateArray());
            Assert.Equal(("note", "reviewed by e2e", "admin"), (only.GetProperty("kind").GetString(), only.GetProperty("reason").GetString(), only.GetProperty("role").GetString()));
        }
        Assert.True((await auditor.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = id })).Ok);

        // A correction with an effect reaches the reports (orchestrator -> RabbitMQ -> scoring's results store): the
        // auditor's score@k counts the attempt as without a valid score, and says which correction did it.
        (code, text) = await CliAsKeyAsync(PlatformProcesses.ApiKey, "audit", "correct", id, "--kind", "score_invalid", "--reason", "e2e: scorer bug");
        Assert.True(code == 0, text);
        var report = await ReportAsync(campaign.CampaignId, r => r.TryGetProperty("correctionsApplied", out var a) && a.GetArrayLength() > 0);
        var row = report.GetProperty("rows")[0];
        Assert.Equal(1, row.GetProperty("perTask")[0].GetProperty("attemptsWithoutValidScore").GetInt32());
        var applied = report.GetProperty("correctionsApplied")[0];
        Assert.Equal((id, "score_invalid", "score_invalid"),
            (applied.GetProperty("attemptId").GetString(), applied.GetProperty("kind").GetString(), applied.GetProperty("effect").GetString()));
        (code, text) = await CliAsync("report", "score-at-k", "--campaign", campaign.CampaignId, "--ignore-corrections", "--format", "json");
        Assert.True(code == 0, text);
        using (var measured = JsonDocument.Parse(text))
        {
            Assert.Equal(0, measured.RootElement.GetProperty("correctionsApplied").GetArrayLength());
            var perTask = measured.RootElement.GetProperty("rows")[0].GetProperty("perTask")[0];
            Assert.Equal(0, perTask.GetProperty("attemptsWithoutValidScore").GetInt32()); // zero values are printed, not left out
        }
        (code, text) = await CliAsync("report", "score-at-k", "--campaign", campaign.CampaignId);
        Assert.True(code == 0, text);
        Assert.Contains($"attempt {id} #2 score_invalid by ", text);
    }

    /// <summary>The campaign's score@k as JSON once <paramref name="ready"/> holds (the results store is fed asynchronously).</summary>
    private async Task<JsonElement> ReportAsync(string campaignId, Func<JsonElement, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (code, text) = await CliAsync("report", "score-at-k", "--campaign", campaignId, "--format", "json");
            Assert.True(code == 0, text);
            using (var doc = JsonDocument.Parse(text))
            {
                var root = doc.RootElement;
                if (root.TryGetProperty("rows", out var rows) && rows.GetArrayLength() > 0 && ready(root)) return root.Clone();
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"score@k of campaign {campaignId} not as expected within 60 s:\n{text}");
            await Task.Delay(500);
        }
    }

    private Task<(int, string)> CliAsync(params string[] args) => CliAsKeyAsync(PlatformProcesses.AuditorKey, args);

    private Task<(int, string)> CliAsKeyAsync(string apiKey, params string[] args) =>
        Cli.RebenchAsync(output, Platform, apiKey, TimeSpan.FromMinutes(2), args);
}
