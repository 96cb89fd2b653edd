using ReBench.Orchestrator.V1;
using ReBench.Scoring.Reports;
using ReBench.Scoring.V1;
using static ReBench.Reports.Tests.Results;

namespace ReBench.Reports.Tests;

/// <summary>
/// Reports bound to the sealed record (pure): the comparison that VerifyCampaign and --verify make, the statement
/// every report makes about its inputs, and audit work left out of reports unless asked for, marked when included.
/// </summary>
public sealed class ResultBindingTests
{
    private static AttemptResult Bound(string agent, double? normalized, bool audit = false)
    {
        var r = Completed(agent, "alpha", normalized);
        r.Source = AttemptResult.OrchestratorSource;
        r.FinalVersion = 12;
        r.ChainHash = new string('a', 64);
        r.AuditWork = audit;
        r.Timeline = [new ResultPoint(1000, normalized is not null, normalized, normalized)];
        return r;
    }

    /// <summary>What the orchestrator would derive from the sealed stream of the attempt as it was stored.</summary>
    internal static BoundResult Sealed(AttemptResult r)
    {
        var s = new BoundResult
        {
            AttemptId = r.AttemptId.ToString(), Finished = true, CampaignId = r.CampaignId.ToString(), TaskId = r.TaskId, Variant = r.Variant,
            Agent = r.Agent, Status = r.Status, Valid = r.Valid, TimeBudgetSeconds = r.TimeBudgetSeconds, WorkingSeconds = r.WorkingSeconds,
            CostUsd = r.CostUsd, ModelCalls = r.ModelCalls, FinalVersion = r.FinalVersion ?? 12, ChainHash = r.ChainHash ?? new string('a', 64),
            AuditWork = r.AuditWork,
        };
        if (r.RawScore is { } raw) s.RawScore = raw;
        if (r.NormalizedScore is { } n) s.NormalizedScore = n;
        foreach (var p in r.Timeline)
        {
            var point = new BoundScorePoint { ElapsedMs = p.ElapsedMs, Valid = p.Valid };
            if (p.RawScore is { } pr) point.RawScore = pr;
            if (p.NormalizedScore is { } pn) point.NormalizedScore = pn;
            s.Timeline.Add(point);
        }
        return s;
    }

    [Fact]
    public void Rows_as_sealed_match_and_an_edited_score_is_named_with_both_values()
    {
        var rows = new[] { Bound("a", 0.0), Bound("a", 0.5) };
        var sealedResults = rows.Select(Sealed).ToList();
        // Control: untouched rows match.
        var ok = ResultBinding.Compare(rows, sealedResults, missingRows: true);
        Assert.True(ok.Ok, ok.Describe());
        Assert.Equal((2, 0), (ok.RowsChecked, ok.Unbound));

        rows[0].NormalizedScore = 0.9; // what the finding did with SQL
        var check = ResultBinding.Compare(rows, sealedResults, missingRows: true);
        var d = Assert.Single(check.Differences);
        Assert.Equal((rows[0].AttemptId.ToString(), "normalized_score", "0.9", "0"), (d.AttemptId, d.Field, d.Stored, d.Sealed));
        Assert.Contains($"attempt {rows[0].AttemptId}: normalized_score stored 0.9, sealed 0", check.Describe());
    }

    [Fact]
    public void Every_field_a_report_reads_is_compared()
    {
        var row = Bound("a", 0.5);
        var sealedResult = Sealed(row);
        row.Status = "failed";
        row.CostUsd = 12345.6;
        row.ChainHash = new string('b', 64);
        row.FinalVersion = 11;
        row.AuditWork = true;
        row.Timeline = [];
        row.Valid = false;
        var fields = ResultBinding.Compare([row], [sealedResult], missingRows: false).Differences.Select(x => x.Field).ToList();
        Assert.Equal(["status", "valid", "cost_usd", "timeline", "final_version", "chain_hash", "audit_work"], fields);
    }

    [Fact]
    public void A_missing_row_a_stray_row_and_a_broken_stream_are_named()
    {
        var present = Bound("a", 0.5);
        var missing = Bound("a", 0.25);
        var stray = Bound("a", 0.1);
        var broken = Bound("a", 0.3);
        var sealedResults = new List<BoundResult> { Sealed(present), Sealed(missing), Sealed(broken) };
        sealedResults[2].Problem = "its stream is broken at event 4: ...";
        var check = ResultBinding.Compare([present, stray, broken], sealedResults, missingRows: true);
        Assert.Equal(
            [(stray.AttemptId.ToString(), "stored"), (broken.AttemptId.ToString(), "stored"), (missing.AttemptId.ToString(), "missing")],
            check.Differences.Select(x => (x.AttemptId, x.Stored)));
        Assert.All(check.Differences, x => Assert.Equal("row", x.Field));
        // A report checks the rows it reads only: a row it does not read is not "missing" there.
        Assert.Equal(2, ResultBinding.Compare([present, stray, broken], sealedResults, missingRows: false).Differences.Count);
    }

    [Fact]
    public void An_unbound_row_is_compared_on_its_other_fields_and_human_rows_are_not_compared()
    {
        var old = Bound("a", 0.5);
        old.FinalVersion = null;
        old.ChainHash = null;
        var human = Completed(AttemptResult.HumanAgent, "alpha", 0.7);
        human.Source = "human-import:x.csv";
        var sealedOld = Sealed(old);
        var check = ResultBinding.Compare([old, human], [sealedOld], missingRows: false);
        Assert.True(check.Ok, check.Describe());
        Assert.Equal((1, 1, 1), (check.RowsChecked, check.Unbound, check.NotSealed));

        old.NormalizedScore = 0.9;
        Assert.Equal("normalized_score", Assert.Single(ResultBinding.Compare([old], [sealedOld], false).Differences).Field);

        // Half a binding is a blanked field, not an old row.
        var half = Bound("a", 0.5);
        var sealedHalf = Sealed(half);
        half.ChainHash = null;
        Assert.Equal("chain_hash", Assert.Single(ResultBinding.Compare([half], [sealedHalf], false).Differences).Field);
    }

    [Fact]
    public void A_human_row_counts_as_relabelled_exactly_when_the_sealed_record_holds_its_id()
    {
        var human = Completed(AttemptResult.HumanAgent, "alpha", 0.7);
        human.Source = "human-import:x.csv";
        var id = human.AttemptId.ToString();

        // Control: an id the sealed record holds no stream for is an imported row's own, counted and not compared.
        var unknown = new BoundResult { AttemptId = id, Unknown = true, Problem = "the attempt has no stream in the sealed record" };
        Assert.True(ResultBinding.Compare([human], [unknown], false).Ok);

        // The record holds it (here with a broken stream, so its answer carries a problem too): an attempt's row
        // with its Source edited. The flag decides, not the problem's words.
        var known = new BoundResult { AttemptId = id, Finished = true, Problem = "the attempt has no stream we could verify" };
        Assert.Equal("source", Assert.Single(ResultBinding.Compare([human], [known], false).Differences).Field);
    }

    [Fact]
    public void Audit_work_is_left_out_unless_included()
    {
        var research = Bound("a", 0.5);
        var replay = Bound("replay", 0.5, audit: true);
        Assert.True(ResultQuery.All.Matches(research));
        Assert.False(ResultQuery.All.Matches(replay));
        Assert.True((ResultQuery.All with { IncludeAudit = true }).Matches(replay));
        Assert.True(ReportInputsText.AuditWork([research, replay], "replay"));
        Assert.False(ReportInputsText.AuditWork([research, replay], "a"));
        Assert.False(ReportInputsText.AuditWork([research, replay], "replay", budgetSeconds: EightHours));

        // A re-execution stored before the mark existed (unbound, unmarked) is still audit work; a bound replay row
        // is what its mark says, and a human row is never audit work.
        var legacy = Bound(AttemptResult.ReplayAgent, 0.5);
        (legacy.FinalVersion, legacy.ChainHash) = (null, null);
        Assert.True(legacy.IsAuditWork);
        Assert.False(ResultQuery.All.Matches(legacy));
        Assert.False(Bound(AttemptResult.ReplayAgent, 0.5).IsAuditWork);
    }

    [Fact]
    public void Every_report_states_whether_its_inputs_were_checked()
    {
        var rows = new[] { Bound("a", 0.5) };
        var notChecked = ReportInputsText.Of(rows, auditRows: 2, auditIncluded: false, check: null);
        Assert.False(notChecked.Verified);
        Assert.Equal("inputs not checked against the sealed record (ask with --verify); 2 audit-work row(s) (re-executions) left out " +
                     "(--include-audit to include them)", notChecked.Statement);
        var check = ResultBinding.Compare(rows, rows.Select(Sealed), false);
        var verified = ReportInputsText.Of(rows, auditRows: 0, auditIncluded: true, check);
        Assert.True(verified.Verified);
        Assert.Equal("inputs checked against the sealed record: 1 row(s) match", verified.Statement);
    }
}

internal static class ProtoTestExtensions
{
    public static T Also<T>(this T value, params Action<T>[] changes)
    {
        foreach (var change in changes) change(value);
        return value;
    }
}

/// <summary>The scoring service with a stand-in for the orchestrator's sealed record, which a test sets.</summary>
public sealed class SealedReportsHost() : ReportsHost(database: true, rabbit: false)
{
    public FakeSealedRecord SealedRecord { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<ISealedRecord>(SealedRecord);
}

public sealed class FakeSealedRecord : ISealedRecord
{
    public Dictionary<Guid, BoundResult> Results { get; } = [];
    public int Calls { get; private set; }

    public Task<IReadOnlyList<BoundResult>> DeriveAsync(IReadOnlyCollection<Guid> attemptIds, IReadOnlyCollection<Guid> campaignIds, CancellationToken ct)
    {
        Calls++;
        var ofCampaigns = Results.Where(r => campaignIds.Any(c => c.ToString() == r.Value.CampaignId)).Select(r => r.Key);
        return Task.FromResult<IReadOnlyList<BoundResult>>(attemptIds.Concat(ofCampaigns).Distinct()
            .Select(id => Results.TryGetValue(id, out var r) ? r : new BoundResult { AttemptId = id.ToString(), Unknown = true, Problem = "the attempt has no stream in the sealed record" })
            .ToList());
    }
}

/// <summary>Every report over gRPC: audit work left out by default and marked when included; --verify refuses an edited row.</summary>
public sealed class SealedReportsGrpcTests(SealedReportsHost host) : IClassFixture<SealedReportsHost>
{
    private async Task<(AttemptResult Research, AttemptResult Replay, Guid Campaign, Guid AuditCampaign)> SeedAsync()
    {
        var (campaign, auditCampaign) = (Guid.NewGuid(), Guid.NewGuid());
        var agent = "bound-" + Guid.NewGuid().ToString("N")[..8];
        var research = Completed(agent, "alpha", 0.0, campaign: campaign);
        var replay = Completed("replay", "alpha", 0.4, campaign: auditCampaign);
        foreach (var (r, audit) in new[] { (research, false), (replay, true) })
        {
            r.Variant = "cpu";
            r.Source = AttemptResult.OrchestratorSource;
            r.FinalVersion = 9;
            r.ChainHash = new string('c', 64);
            r.AuditWork = audit;
            r.CostUsd = 1.5;
            host.SealedRecord.Results[r.AttemptId] = ResultBindingTests.Sealed(r);
        }
        await host.Store.RecordAllAsync([research, replay], CancellationToken.None);
        return (research, replay, campaign, auditCampaign);
    }

    private static ReportFilter Filter(Guid a, Guid b, bool includeAudit = false, bool verify = false) =>
        new() { CampaignIds = { a.ToString(), b.ToString() }, IncludeAudit = includeAudit, Verify = verify };

    [Fact]
    public async Task Audit_work_stays_out_of_every_report_by_default_and_is_marked_when_included()
    {
        var (research, _, campaign, auditCampaign) = await SeedAsync();
        var total = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1));

        var score = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Filter(campaign, auditCampaign) });
        Assert.Equal([research.Agent], score.Rows.Select(r => r.Agent));
        Assert.Equal((1, 1, false, false), (score.Inputs.Rows, score.Inputs.AuditRows, score.Inputs.AuditIncluded, score.Inputs.Verified));
        Assert.Contains("not checked against the sealed record", score.Inputs.Statement);
        var budgets = await host.Client.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = total, Filter = Filter(campaign, auditCampaign) });
        Assert.Equal([research.Agent], budgets.Rows.Select(r => r.Agent).Distinct());
        var overTime = await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = Filter(campaign, auditCampaign) });
        Assert.Equal([research.Agent], overTime.Series.Select(s => s.Agent).Distinct());
        var costs = await host.Client.CostsAsync(new CostsRequest { Filter = Filter(campaign, auditCampaign) });
        Assert.Equal([campaign.ToString()], costs.Campaigns.Select(c => c.CampaignId));
        Assert.Equal(1.5, costs.TotalUsd);

        score = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Filter(campaign, auditCampaign, includeAudit: true) });
        Assert.Equal([(research.Agent, false), ("replay", true)], score.Rows.Select(r => (r.Agent, r.AuditWork)).OrderBy(r => r.Item2));
        Assert.Contains("1 audit-work row(s) (re-executions) included and marked", score.Inputs.Statement);
        budgets = await host.Client.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = total, Filter = Filter(campaign, auditCampaign, includeAudit: true) });
        Assert.Contains(budgets.Rows, r => r is { Agent: "replay", AuditWork: true });
        overTime = await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = Filter(campaign, auditCampaign, includeAudit: true) });
        Assert.Contains(overTime.Series, s => s is { Agent: "replay", AuditWork: true });
        Assert.DoesNotContain(overTime.Series, s => s.Agent == research.Agent && s.AuditWork);
        costs = await host.Client.CostsAsync(new CostsRequest { Filter = Filter(campaign, auditCampaign, includeAudit: true) });
        Assert.Equal(3.0, costs.TotalUsd);
        Assert.Equal([(campaign.ToString(), false), (auditCampaign.ToString(), true)],
            costs.Campaigns.Select(c => (c.CampaignId, c.AuditWork)).OrderBy(c => c.AuditWork));
        Assert.Contains(costs.Attempts, a => a is { Agent: "replay", AuditWork: true });
    }

    [Fact]
    public async Task Verify_checks_every_row_in_one_call_and_refuses_an_edited_one()
    {
        var (research, replay, campaign, auditCampaign) = await SeedAsync();
        var calls = host.SealedRecord.Calls;
        // Control: rows as sealed: checked, stated, one call for the whole report.
        var ok = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Filter(campaign, auditCampaign, includeAudit: true, verify: true) });
        Assert.True(ok.Inputs.Verified, ok.Inputs.Statement);
        Assert.Equal("inputs checked against the sealed record: 2 row(s) match; 1 audit-work row(s) (re-executions) included and marked", ok.Inputs.Statement);
        Assert.Equal(calls + 1, host.SealedRecord.Calls);

        // The sealed record says 0.0 where the store is made to say 0.9: every report refuses, naming the row.
        host.SealedRecord.Results[research.AttemptId] = ResultBindingTests.Sealed(research).Also(s => s.NormalizedScore = -1);
        var filter = Filter(campaign, auditCampaign, verify: true);
        foreach (var call in new Func<Task>[]
        {
            () => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter }).ResponseAsync,
            () => host.Client.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)), Filter = filter }).ResponseAsync,
            () => host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = filter }).ResponseAsync,
            () => host.Client.CostsAsync(new CostsRequest { Filter = filter }).ResponseAsync,
        })
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains($"attempt {research.AttemptId}: normalized_score stored 0, sealed -1", e.Status.Detail);
            Assert.Contains("1 of 1 row(s) differ", e.Status.Detail);
        }
        // Without verify the same report answers, and says it was not checked.
        var unchecked_ = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Filter(campaign, auditCampaign) });
        Assert.False(unchecked_.Inputs.Verified);
        _ = replay;
    }
}

/// <summary>Bad input and a missing orchestrator address: clear statuses, never INTERNAL.</summary>
public sealed class SealedRecordBadInputTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    [Fact]
    public async Task Check_results_refuses_bad_ids_and_verify_without_an_orchestrator_address_says_why()
    {
        var scoring = new Scoring.V1.Scoring.ScoringClient(host.Channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => scoring.CheckResultsAsync(new CheckResultsRequest()).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "campaign_ids: at least one campaign is required"), (e.StatusCode, e.Status.Detail));
        e = await Assert.ThrowsAsync<RpcException>(() => scoring.CheckResultsAsync(new CheckResultsRequest { CampaignIds = { "not-an-id" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("campaign_ids[]", e.Status.Detail);
        // Control: a well-formed campaign with nothing stored checks zero rows and names the attempt the sealed record says ended.
        var ended = new BoundResult { AttemptId = Guid.NewGuid().ToString(), Finished = true, Status = "completed", FinalVersion = 7 };
        var ok = await scoring.CheckResultsAsync(new CheckResultsRequest { CampaignIds = { Guid.NewGuid().ToString() }, Sealed = { ended } });
        Assert.Equal(0, ok.RowsChecked);
        Assert.Equal((ended.AttemptId, "row", "missing"), (ok.Differences.Single().AttemptId, ok.Differences.Single().Field, ok.Differences.Single().Stored));

        // This host has no Services:Orchestrator: a verified report cannot be checked and says so.
        var row = Completed("no-orchestrator-" + Guid.NewGuid().ToString("N")[..8], "alpha", 0.5);
        row.Source = AttemptResult.OrchestratorSource;
        await host.Store.RecordAsync(row, CancellationToken.None);
        e = await Assert.ThrowsAsync<RpcException>(() => host.Client.CostsAsync(new CostsRequest { Filter = new ReportFilter { Agents = { row.Agent }, Verify = true } }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("Services:Orchestrator", e.Status.Detail);
    }
}

/// <summary>The corrections a verified report applies must be those of the attempt's chained corrections stream.</summary>
public sealed class CorrectionBindingTests
{
    private static (AttemptResult Row, BoundResult Sealed) Attempt()
    {
        var r = Completed("scripted", "alpha", 0.5);
        r.Source = AttemptResult.OrchestratorSource;
        r.FinalVersion = 12;
        r.ChainHash = new string('a', 64);
        return (r, ResultBindingTests.Sealed(r));
    }

    private static ResultCorrection Stored(AttemptResult r, long number, string actor = "key-admin") => new()
    {
        Id = Guid.NewGuid(), AttemptId = r.AttemptId, Number = number, Kind = "exclude_from_reports", Reason = "why", Actor = actor, Role = "admin",
    };

    private static SealedCorrection AsSealed(ResultCorrection c) =>
        new() { Number = c.Number, Kind = c.Kind, Reason = c.Reason, Detail = c.Detail, Actor = c.Actor, Role = c.Role };

    [Fact]
    public void The_same_corrections_on_both_sides_match_and_none_on_either_side_match()
    {
        var (row, sealedResult) = Attempt();
        Assert.Empty(ResultBinding.Corrections([row], [sealedResult], []));
        var genuine = Stored(row, 1);
        sealedResult.Corrections.Add(AsSealed(genuine));
        Assert.Empty(ResultBinding.Corrections([row], [sealedResult], [genuine]));
    }

    [Fact]
    public void A_correction_the_stream_does_not_hold_an_edited_one_and_a_broken_stream_are_named()
    {
        var (row, sealedResult) = Attempt();
        var forged = Stored(row, 1, actor: "forged-on-the-bus");
        var forgedDiff = Assert.Single(ResultBinding.Corrections([row], [sealedResult], [forged]));
        Assert.Equal(("corrections", "none"), (forgedDiff.Field, forgedDiff.Sealed));
        Assert.Contains("forged-on-the-bus", forgedDiff.Stored);

        var genuine = Stored(row, 1);
        sealedResult.Corrections.Add(AsSealed(genuine));
        var edited = Stored(row, 1);
        edited.Reason = "edited";
        Assert.Single(ResultBinding.Corrections([row], [sealedResult], [edited]));

        sealedResult.CorrectionsProblem = "event 1 does not chain";
        Assert.Contains("does not chain", Assert.Single(ResultBinding.Corrections([row], [sealedResult], [genuine])).Sealed);
    }
}
