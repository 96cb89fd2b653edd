using Marten;
using ReBench.Scoring.V1;
using Store = ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>
/// Human baselines as first-class rows, through the Reports API on the real PostgreSQL: a changed row supersedes the
/// stored one (the old version kept as an event), rows are listed, corrected and reinstated like agents' attempts,
/// and a human without a valid final score is recorded as such. alpha is lower-is-better 5 -> 1 (cpu).
/// </summary>
public sealed class HumanBaselineRowsTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    private static readonly Metadata Admin = TestPlatformKey.As("key-admin-1", "admin");

    [Fact]
    public async Task A_changed_row_supersedes_the_stored_one_and_keeps_the_old_version_as_an_event()
    {
        var first = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest
        {
            Csv = "task,raw_score,hours,row_id,person\nalpha,3,8,sup-1,ann\n", Source = "v1.csv",
        });
        Assert.Equal((1, 0, 0), (first.Imported, first.AlreadyPresent, first.Superseded));

        // A one-row file with the same row changes nothing; a corrected value under the same row_id supersedes it.
        var same = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "row_id,task,raw_score,hours,person\nsup-1,alpha,3,8,ann\n", Source = "again.csv" });
        Assert.Equal((0, 1, 0), (same.Imported, same.AlreadyPresent, same.Superseded));
        var fixedRow = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "task,raw_score,hours,row_id,person\nalpha,2,8,sup-1,ann\n", Source = "v2.csv" });
        Assert.Equal((0, 0, 1), (fixedRow.Imported, fixedRow.AlreadyPresent, fixedRow.Superseded));
        Assert.Equal(first.AttemptIds, fixedRow.AttemptIds);

        var row = Assert.Single((await host.Client.ListHumanBaselinesAsync(new ListHumanBaselinesRequest())).Rows, r => r.RowKey == "sup-1");
        Assert.Equal((2.0, 0.75, 1, "counted", "ann"), (row.RawScore, row.NormalizedScore, row.Revisions, row.ReportState, row.Person));
        Assert.Equal("human-import:v2.csv", row.Source);

        // The stream holds both versions, whole.
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(Guid.Parse(row.AttemptId));
        Assert.Equal(["human_baseline_imported", "human_baseline_superseded"], events.Select(e => e.EventTypeName));
        var superseded = Assert.IsType<Store.HumanBaselineSuperseded>(events[1].Data);
        Assert.Contains("\"rawScore\":3", superseded.Previous);
        Assert.Contains("\"rawScore\":2", superseded.Current);
    }

    [Fact]
    public async Task Rows_are_excluded_and_reinstated_like_attempts_and_reports_follow()
    {
        var import = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest
        {
            Csv = "task,variant,raw_score,hours,row_id\nbeta,cpu,9,8,cor-keep\nbeta,cpu,1,8,cor-drop\n",
        });
        var drop = import.AttemptIds[1];
        async Task<double> Beta() => (await host.Client.ScoreAtKAsync(new ScoreAtKRequest
        {
            K = 1, Filter = new ReportFilter { Agents = { "human" }, Tasks = { "beta" }, CampaignIds = { import.BatchId } },
        })).Rows.Single().Score;
        Assert.Equal(0.5, await Beta(), 9); // (0.9 + 0.1) / 2

        var excluded = await host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest { AttemptId = drop, Kind = "exclude_from_reports", Reason = "ran on the wrong hardware" }, Admin);
        Assert.Equal(1, excluded.Number);
        Assert.Equal(0.9, await Beta(), 9);
        var listed = Assert.Single((await host.Client.ListHumanBaselinesAsync(new ListHumanBaselinesRequest { Tasks = { "beta" } })).Rows, r => r.RowKey == "cor-drop");
        Assert.Equal("excluded", listed.ReportState);
        Assert.Equal(["exclude_from_reports"], listed.Corrections);

        await host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest { AttemptId = drop, Kind = "note", Reason = "hardware log attached" }, Admin);
        var reinstated = await host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest { AttemptId = drop, Kind = "reinstate", Reason = "hardware was fine" }, Admin);
        Assert.Equal(3, reinstated.Number);
        Assert.Equal(0.5, await Beta(), 9);

        // Who recorded it is what the gateway said, kept on the correction.
        var corrections = await host.Store.CorrectionsForAsync([Guid.Parse(drop)], CancellationToken.None);
        Assert.All(corrections, c => Assert.Equal(("key-admin-1", "admin"), (c.Actor, c.Role)));
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        Assert.Equal(3, (await session.Events.FetchStreamAsync(Guid.Parse(drop))).Count(e => e.Data is Store.HumanBaselineCorrected));
    }

    [Fact]
    public async Task A_human_without_a_valid_score_counts_as_zero_and_is_flagged()
    {
        var import = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "task,raw_score,hours,row_id\nalpha,nan,8,nan-1\n" });
        var row = Assert.Single((await host.Client.ListHumanBaselinesAsync(new ListHumanBaselinesRequest())).Rows, r => r.RowKey == "nan-1");
        Assert.False(row.Valid);
        Assert.False(row.HasRawScore);
        var score = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { CampaignIds = { import.BatchId } } });
        var r0 = Assert.Single(score.Rows);
        Assert.Equal(0, r0.Score);
        Assert.Equal(1, r0.PerTask.Single().AttemptsWithoutValidScore);
    }

    [Fact]
    public async Task Corrections_of_unknown_rows_and_bad_kinds_are_refused_clearly()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() => host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest
        {
            AttemptId = Guid.NewGuid().ToString(), Kind = "note", Reason = "x",
        }, Admin).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no human baseline row has attempt id", unknown.Status.Detail);

        var import = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "task,raw_score,hours,row_id\nalpha,2,8,bad-kind\n" });
        foreach (var (kind, reason, expected) in new[]
        {
            ("Exclude!", "r", "kind must be lower-case snake_case"), ("note", "  ", "reason is required"), ("note", new string('r', 2001), "reason is 2001 characters"),
        })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest
            {
                AttemptId = import.AttemptIds[0], Kind = kind, Reason = reason,
            }, Admin).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains(expected, e.Status.Detail);
        }
        var bad = await Assert.ThrowsAsync<RpcException>(() => host.Client.CorrectHumanBaselineAsync(new CorrectHumanBaselineRequest { AttemptId = "not-a-guid", Kind = "note", Reason = "r" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }
}
