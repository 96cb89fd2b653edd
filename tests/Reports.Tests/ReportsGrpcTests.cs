using Google.Protobuf.WellKnownTypes;
using ReBench.Scoring.V1;
using static ReBench.Reports.Tests.Results;
using Store = ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>The Reports API over gRPC, on a store seeded in the real PostgreSQL.</summary>
public sealed partial class ReportsGrpcTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    private static Store.AttemptResult Cpu(Store.AttemptResult r) { r.Variant = "cpu"; return r; }

    private static ReportFilter Agents(params string[] agents) => new() { Agents = { agents } };

    [Fact]
    public async Task ScoreAtK_over_a_seeded_store()
    {
        await host.Store.RecordAllAsync(new[]
        {
            Completed("grpc-a", "alpha", 0.0), Completed("grpc-a", "alpha", 1.0),
            Completed("grpc-a", "beta", 0.5), Completed("grpc-a", "beta", 0.5),
            Completed("grpc-b", "alpha", 0.2),
        }.Select(Cpu).ToList(), CancellationToken.None);

        // grpc-b has one attempt where k is 2: refused unless extrapolation is asked for, then marked.
        var refused = await Assert.ThrowsAsync<RpcException>(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest
        {
            K = 2, Filter = Agents("grpc-a", "grpc-b"),
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("k=2 is more than the 1 attempts agent 'grpc-b'", refused.Status.Detail);
        var request = new ScoreAtKRequest { K = 2, Seed = 7, BootstrapResamples = 500, Filter = Agents("grpc-a", "grpc-b"), AllowExtrapolation = true };
        var res = await host.Client.ScoreAtKAsync(request);
        Assert.Equal("tasks, then attempts within each resampled task", res.Resampled);
        Assert.Equal((false, 2), (res.Rows[0].Extrapolated, res.Rows[0].MinAttemptsPerTask));
        Assert.Equal((true, 1), (res.Rows[1].Extrapolated, res.Rows[1].MinAttemptsPerTask));

        Assert.Equal(["alpha:cpu", "beta:cpu"], res.Tasks);
        Assert.Equal((7UL, 500), (res.Seed, res.BootstrapResamples));
        Assert.Equal(2, res.Rows.Count);
        var a = res.Rows[0];
        Assert.Equal(("grpc-a", 2, 2, 4), (a.Agent, a.K, a.TasksScored, a.Attempts));
        Assert.Equal(TimeSpan.FromMinutes(30), a.AttemptBudget.ToTimeSpan());
        Assert.Equal((0.75 + 0.5) / 2, a.Score, 1e-12);
        // Hierarchical: tasks are resampled too, so the interval reaches past each task's own range (alpha alone: 0 to 1).
        Assert.InRange(a.CiLow, 0.0, a.Score);
        Assert.InRange(a.CiHigh, a.Score, 1.0);
        Assert.True(a.CiHigh > a.CiLow);
        var b = res.Rows[1];
        Assert.Equal(("grpc-b", 0.2), (b.Agent, b.Score));
        Assert.Equal(["beta:cpu"], b.MissingTasks);

        var again = await host.Client.ScoreAtKAsync(request);
        Assert.Equal(res, again); // deterministic given the seed
        var other = await host.Client.ScoreAtKAsync(new ScoreAtKRequest
        {
            K = 2, AttemptBudget = Duration.FromTimeSpan(TimeSpan.FromHours(2)), Filter = Agents("grpc-a"),
        });
        Assert.Empty(other.Rows);
        Assert.Equal(1UL, other.Seed); // the default seed, echoed
    }

    [Fact]
    public async Task Time_budgets_and_score_over_time_answer()
    {
        await host.Store.RecordAllAsync(new[]
        {
            Completed("tb-a", "alpha", 0.4, HalfHour), Completed("tb-a", "alpha", 0.0, HalfHour), Completed("tb-a", "alpha", 0.6, EightHours),
        }.Select(Cpu).ToList(), CancellationToken.None);

        var budgets = await host.Client.TimeBudgetsAsync(new TimeBudgetsRequest
        {
            TotalBudget = Duration.FromTimeSpan(TimeSpan.FromHours(8)), Filter = Agents("tb-a"),
        });
        Assert.Equal([16, 1], budgets.Rows.Select(r => r.K));
        Assert.Equal(1, budgets.BestRowByAgent["tb-a"]);

        var overTime = await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = Agents("tb-a"), Points = 3 });
        var all = Assert.Single(overTime.Series, s => s.Task == "");
        Assert.Equal([0.0, 4.0, 8.0], all.Points.Select(p => p.Elapsed.ToTimeSpan().TotalHours));
    }

    [Fact]
    public async Task Import_is_all_or_nothing_and_humans_appear_in_every_view()
    {
        const string bad = "task,raw_score,hours,hourly_rate_usd\nalpha,2.0,8,100\nbeta,lots,8,100\n";
        var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = bad }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("line 3, column raw_score: 'lots' is not a number", e.Status.Detail);
        Assert.Empty((await host.Client.CostsAsync(new CostsRequest { Filter = Agents("human") })).Attempts); // line 2 was not written

        const string good = "task,raw_score,hours,hourly_rate_usd\nalpha,2.0,8,100\nbeta,7.5,6,\n";
        var imported = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = good, Source = "experts.csv" });
        Assert.Equal((2, 0), (imported.Imported, imported.AlreadyPresent));
        var again = await host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = good });
        Assert.Equal((0, 2, imported.BatchId), (again.Imported, again.AlreadyPresent, again.BatchId));

        var score = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Agents("human") });
        var row = Assert.Single(score.Rows);
        Assert.Equal((TimeSpan.FromHours(8), 0.75), (row.AttemptBudget.ToTimeSpan(), row.Score)); // (2-5)/(1-5) and 7.5/10
        var costs = await host.Client.CostsAsync(new CostsRequest { Filter = new ReportFilter { CampaignIds = { imported.BatchId } } });
        Assert.Equal(800, costs.TotalUsd, 1e-9);
        Assert.Equal(["hourly_rate", "unknown"], costs.Attempts.Select(a => a.Basis).Order());
    }

    [Theory]
    [InlineData(0, "k must be between 1")]
    [InlineData(10_001, "k must be between 1")]
    public async Task Bad_K_is_InvalidArgument(int k, string message)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = k }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(message, e.Status.Detail);
    }

    [Fact]
    public async Task Other_bad_requests_are_InvalidArgument_naming_the_field()
    {
        async Task Expect(Func<Task> call, string message)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains(message, e.Status.Detail);
        }
        await Expect(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { CampaignIds = { "nope" } } }).ResponseAsync,
            "filter.campaign_ids[] 'nope' is not a valid id");
        await Expect(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, BootstrapResamples = -1 }).ResponseAsync, "bootstrap_resamples");
        await Expect(() => host.Client.TimeBudgetsAsync(new TimeBudgetsRequest()).ResponseAsync, "total_budget is required");
        await Expect(() => host.Client.TimeBudgetsAsync(new TimeBudgetsRequest
        {
            TotalBudget = Duration.FromTimeSpan(TimeSpan.FromHours(8)), AttemptBudgets = { Duration.FromTimeSpan(TimeSpan.FromHours(3)) },
        }).ResponseAsync, "does not divide total_budget");
        await Expect(() => host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Points = 1 }).ResponseAsync, "points must be between 2");
        await Expect(() => host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest()).ResponseAsync, "csv is required");
        await Expect(() => host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "task,raw_score,hours\ngamma,1,8\n" }).ResponseAsync,
            "line 2, column task: unknown task 'gamma'; known tasks: alpha, beta");
    }
}

public sealed partial class ReportsGrpcTests
{
    /// <summary>
    /// Found by hostile input (issue 17): Durations out of range were INTERNAL "Duration was not a valid normalized
    /// duration", a NUL in a filter INTERNAL with the SQL of the query. Each is INVALID_ARGUMENT naming the field,
    /// with results in the store (the control: the same requests without the hostile value answer).
    /// </summary>
    [Fact]
    public async Task Hostile_durations_and_filters_are_InvalidArgument()
    {
        await host.Store.RecordAllAsync(new[] { Completed("hostile-a", "alpha", 0.5) }.Select(Cpu).ToList(), CancellationToken.None);
        var filter = Agents("hostile-a");
        Assert.Single((await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter })).Rows);

        async Task Expect(Func<Task> call, string message)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{e.StatusCode}: {e.Status.Detail}");
            Assert.Contains(message, e.Status.Detail);
            Assert.True(e.Status.Detail.Length < 200, e.Status.Detail);
        }
        foreach (var bad in new[] { new Duration { Seconds = 1, Nanos = 2_000_000_000 }, new Duration { Seconds = 5, Nanos = -5 } })
        {
            await Expect(() => host.Client.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = bad, Filter = filter }).ResponseAsync, "total_budget is not a valid duration");
            await Expect(() => host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { AttemptBudget = bad, Filter = filter }).ResponseAsync, "attempt_budget is not a valid duration");
            await Expect(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, AttemptBudget = bad, Filter = filter }).ResponseAsync, "attempt_budget is not a valid duration");
        }
        await Expect(() => host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { AttemptBudget = new Duration { Seconds = long.MaxValue } }).ResponseAsync, "out of range");
        await Expect(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = Agents("hostile\0a") }).ResponseAsync, "filter.agents[] contains a NUL");
        await Expect(() => host.Client.CostsAsync(new CostsRequest { Filter = new ReportFilter { Tasks = { "alpha\0" } } }).ResponseAsync, "filter.tasks[] contains a NUL");
        await Expect(() => host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = Agents(new string('a', 100_000)) }).ResponseAsync, "filter.agents[] is 100000 characters long");
        await Expect(() => host.Client.CostsAsync(new CostsRequest { Filter = Agents(Enumerable.Range(0, 5_000).Select(i => $"a{i}").ToArray()) }).ResponseAsync, "filter.agents has 5000 items");
    }
}

/// <summary>Without ConnectionStrings:Postgres the service runs; the reports say why they cannot answer.</summary>
public sealed class StorelessReportsTests(StorelessReportsHost host) : IClassFixture<StorelessReportsHost>
{
    [Fact]
    public async Task Reports_answer_FailedPrecondition()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("no results store configured", e.Status.Detail);
        var import = await Assert.ThrowsAsync<RpcException>(() =>
            host.Client.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest { Csv = "task,raw_score,hours\nalpha,2,8\n" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, import.StatusCode);
    }
}

/// <summary>Issue 18's bad input: a filter value that matches nothing gives an empty report that names it, never an exception.</summary>
public sealed class UnmatchedFilterTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    [Fact]
    public async Task Every_report_names_the_filter_values_that_match_nothing()
    {
        var seeded = Completed("unmatched-known", "alpha", 0.5);
        seeded.Variant = "cpu";
        await host.Store.RecordAllAsync([seeded], CancellationToken.None);
        var missingCampaign = Guid.NewGuid().ToString();
        var filter = new ReportFilter { Agents = { "unmatched-known", "modualr" }, Tasks = { "alpha:cpu", "alpha:gpu", "gamma" }, CampaignIds = { missingCampaign } };
        string[] expected = ["agent 'modualr'", "task 'alpha:gpu'", "task 'gamma'", $"campaign {missingCampaign}"];

        var score = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        Assert.Empty(score.Rows);   // the campaign matches nothing, so nothing is selected
        Assert.Equal(expected, score.UnmatchedFilters);
        Assert.Equal(expected, (await host.Client.TimeBudgetsAsync(new TimeBudgetsRequest { TotalBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(8)), Filter = filter })).UnmatchedFilters);
        Assert.Equal(expected, (await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = filter })).UnmatchedFilters);
        Assert.Equal(expected, (await host.Client.CostsAsync(new CostsRequest { Filter = filter })).UnmatchedFilters);

        // The control: values that match are not listed, and the report has its row.
        var matching = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter { Agents = { "unmatched-known" }, Tasks = { "alpha" } } });
        Assert.Empty(matching.UnmatchedFilters);
        Assert.Single(matching.Rows);
    }
}
