using ReBench.Scoring.V1;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Reports bound to the sealed record, and audit work kept out of them (issue 16, findings 3 and 5), through the
/// gateway and the services as processes on the real PostgreSQL: a results row edited with SQL as the finding did is
/// named by `rebench verify --campaign` and refused by `--verify`; a re-execution leaves every default report as it
/// was and shows, marked, with `--include-audit`.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class BoundReportsEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    private Scoring.V1.Reports.ReportsClient Reports() => new(Platform.PublicChannel());

    private async Task<(string Campaign, Attempt Attempt)> RunCampaignAsync(string name)
    {
        var client = Platform.Orchestrator();
        var script = string.Join('\n', new object[] { new { run = "echo bound" }, new { submit = "done" } }.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = name, AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(Budget),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        Assert.False(campaign.AuditWork);
        await ResultRecordedAsync(attempt.AttemptId, campaign.CampaignId);
        return (campaign.CampaignId, attempt);
    }

    /// <summary>The result reaches the store from the bus a moment after the attempt ends.</summary>
    private async Task ResultRecordedAsync(string attemptId, string campaignId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var costs = await Reports().CostsAsync(new CostsRequest { Filter = new ReportFilter { CampaignIds = { campaignId }, IncludeAudit = true } });
            if (costs.Attempts.Any(a => a.AttemptId == attemptId)) return;
            Assert.True(DateTime.UtcNow < deadline, $"the result of attempt {attemptId} was not recorded\n{Platform.LogTail("scoring")}");
            await Task.Delay(300);
        }
    }

    [Fact]
    public async Task A_results_row_edited_with_sql_is_named_by_verify_and_refused_by_a_verified_report()
    {
        var (campaign, attempt) = await RunCampaignAsync("bound-edited");

        // Control: untouched, the store matches the sealed record and a verified report says so.
        var (code, text) = await CliAsync("verify", "--campaign", campaign);
        Assert.True(code == 0, text);
        Assert.Contains("OK: results store: 1 row(s) match the sealed record", text);
        (code, text) = await CliAsync("report", "score-at-k", "--campaign", campaign, "--verify");
        Assert.True(code == 0, text);
        Assert.Contains("inputs checked against the sealed record: 1 row(s) match", text);
        var before = await Reports().ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { CampaignIds = { campaign } } });
        Assert.Equal(0.0, Assert.Single(before.Rows).Score);
        // The stored row names the attempt's terminal event and its chain link, which the seal signs.
        var row = await StoredRowAsync(attempt.AttemptId);
        Assert.True(row.GetProperty("FinalVersion").GetInt64() > 0, row.ToString());
        Assert.Equal(64, row.GetProperty("ChainHash").GetString()!.Length);

        // What the finding did: one row's normalized score, 0 -> 0.9 (and valid, so that reports count it).
        Assert.Equal(1, await SqlAsync(
            $"update \"{Platform.Schema}_reports\".mt_doc_attemptresult set data = data || jsonb_build_object('NormalizedScore', 0.9, 'Valid', true) " +
            "where data ->> 'AttemptId' = @id", attempt.AttemptId));
        var falsified = await Reports().ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { CampaignIds = { campaign } } });
        Assert.Equal(0.9, Assert.Single(falsified.Rows).Score, 1e-9);
        Assert.False(falsified.Inputs.Verified);
        Assert.Contains("inputs not checked against the sealed record", falsified.Inputs.Statement);

        (code, text) = await CliAsync("verify", "--campaign", campaign);
        Assert.True(code == 1, text);
        Assert.Contains("RESULTS DIFFER from the sealed record: 1 row(s)", text);
        Assert.Contains($"attempt {attempt.AttemptId}: normalized_score: stored 0.9, sealed ", text);
        var verified = await Platform.Orchestrator().Audit.VerifyCampaignAsync(new VerifyCampaignRequest { CampaignId = campaign });
        Assert.False(verified.Ok);
        Assert.Contains(verified.ResultDifferences, d => d.AttemptId == attempt.AttemptId && d.Field == "normalized_score" && d.Stored == "0.9");

        (code, text) = await CliAsync("report", "score-at-k", "--campaign", campaign, "--verify");
        Assert.True(code == 3, text);
        Assert.Contains($"attempt {attempt.AttemptId}: normalized_score stored 0.9, sealed ", text);
        (code, text) = await CliAsync("report", "costs", "--campaign", campaign, "--verify");
        Assert.True(code == 3, text);
        Assert.Contains(attempt.AttemptId, text);
    }

    [Fact]
    public async Task A_re_execution_leaves_every_default_report_as_it_was_and_shows_marked_when_included()
    {
        var (campaign, source) = await RunCampaignAsync("bound-reexecuted");
        var reports = Reports();
        var total = Duration.FromTimeSpan(Budget);
        // Filtered to this test's campaigns: other tests' results may still arrive in the shared store meanwhile.
        async Task<(ScoreAtKResponse, TimeBudgetsResponse, ScoreOverTimeResponse, CostsResponse)> AllAsync(bool includeAudit, params string[] campaigns)
        {
            var filter = new ReportFilter { IncludeAudit = includeAudit, CampaignIds = { campaigns } };
            return (await reports.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter }),
                await reports.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = total, Filter = filter }),
                await reports.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = filter }),
                await reports.CostsAsync(new CostsRequest { Filter = filter }));
        }
        var before = await AllAsync(false, campaign);

        // The auditor re-executes (allowed to its read-only role); the server marks the new campaign as audit work.
        var auditor = Platform.Orchestrator(PlatformProcesses.AuditorKey);
        var rerun = await auditor.Attempts.ReexecuteAttemptAsync(new ReexecuteAttemptRequest { AttemptId = source.AttemptId });
        var replayed = (await Waits.CampaignFinishedAsync(auditor, rerun.CampaignId, TimeSpan.FromMinutes(4))).Single();
        await ResultRecordedAsync(replayed.AttemptId, rerun.CampaignId);
        Assert.True((await auditor.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = rerun.CampaignId })).AuditWork);
        Assert.False((await auditor.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = campaign })).AuditWork);

        // The re-execution's campaign asked for by name too: still left out, so every report reads as before.
        var after = await AllAsync(false, campaign, rerun.CampaignId);
        Assert.Equal(before.Item1.Rows, after.Item1.Rows);
        Assert.Equal(before.Item2.Rows, after.Item2.Rows);
        Assert.Equal(before.Item3.Series, after.Item3.Series);
        Assert.Equal(before.Item4.Attempts, after.Item4.Attempts);
        Assert.Equal(before.Item4.Campaigns, after.Item4.Campaigns);
        Assert.Equal(before.Item4.TotalUsd, after.Item4.TotalUsd);
        Assert.DoesNotContain(after.Item1.Rows, r => r.Agent == "replay");
        Assert.True(after.Item1.Inputs.AuditRows >= 1);
        Assert.Contains("left out (--include-audit to include them)", after.Item1.Inputs.Statement);

        var included = await AllAsync(true, campaign, rerun.CampaignId);
        Assert.Contains(included.Item1.Rows, r => r is { Agent: "replay", AuditWork: true });
        Assert.DoesNotContain(included.Item1.Rows, r => r.Agent == "scripted" && r.AuditWork);
        Assert.Contains(included.Item2.Rows, r => r is { Agent: "replay", AuditWork: true });
        Assert.Contains(included.Item3.Series, s => s is { Agent: "replay", AuditWork: true });
        Assert.Contains(included.Item4.Attempts, a => a.AttemptId == replayed.AttemptId && a.AuditWork);
        Assert.Contains(included.Item4.Campaigns, c => c.CampaignId == rerun.CampaignId && c.AuditWork);

        // The CLI: left out by default, marked with --include-audit; the audit campaign's own results verify, marked as such.
        var (code, text) = await CliAsync("report", "costs", "--campaign", rerun.CampaignId);
        Assert.True(code == 0, text);
        Assert.DoesNotContain(replayed.AttemptId, text);
        Assert.Contains("1 audit-work row(s) (re-executions) left out", text);
        (code, text) = await CliAsync("report", "costs", "--campaign", rerun.CampaignId, "--include-audit", "--verify");
        Assert.True(code == 0, text);
        Assert.Contains("replay (audit)", text);
        Assert.Contains("inputs checked against the sealed record: 1 row(s) match", text);
        (code, text) = await CliAsync("verify", "--campaign", rerun.CampaignId);
        Assert.True(code == 0, text);
        Assert.Contains("OK: results store: 1 row(s) match the sealed record", text);
    }

    private async Task<JsonElement> StoredRowAsync(string attemptId)
    {
        await using var connection = new NpgsqlConnection(TestEnv.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select data::text from \"{Platform.Schema}_reports\".mt_doc_attemptresult where data ->> 'AttemptId' = @id", connection);
        command.Parameters.AddWithValue("id", attemptId);
        return JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement.Clone();
    }

    private static async Task<int> SqlAsync(string sql, string attemptId)
    {
        await using var connection = new NpgsqlConnection(TestEnv.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", attemptId);
        return await command.ExecuteNonQueryAsync();
    }

    private Task<(int, string)> CliAsync(params string[] args) =>
        Cli.RebenchAsync(output, Platform, PlatformProcesses.ApiKey, TimeSpan.FromMinutes(2), args);
}
