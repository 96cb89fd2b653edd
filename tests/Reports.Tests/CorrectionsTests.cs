using MassTransit;
using ReBench.Contracts;
using ReBench.Scoring.V1;
using static ReBench.Reports.Tests.Results;
using Store = ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>How recorded corrections change what the score reports read (pure rules).</summary>
public sealed class CorrectionRulesTests
{
    private static Store.ResultCorrection Correction(Store.AttemptResult r, long number, string kind) => new()
    {
        Id = Guid.NewGuid(), AttemptId = r.AttemptId, Number = number, Kind = kind, Reason = $"reason {number}", Actor = "admin-1",
    };

    [Fact]
    public void Exclude_removes_the_attempt_and_score_invalid_keeps_it_at_zero_with_its_timeline_invalid()
    {
        var a = Completed("x", "alpha", 0.9);
        var b = Completed("x", "alpha", 0.8);
        b.Timeline = [new Store.ResultPoint(1000, true, 0.8, 0.8)];
        var c = Completed("x", "alpha", 0.7);

        var corrected = Store.ResultCorrections.Apply([a, b, c], [Correction(a, 1, "exclude_from_reports"), Correction(b, 1, "score_invalid")]);

        Assert.Equal([b.AttemptId, c.AttemptId], corrected.Results.Select(r => r.AttemptId));
        var invalid = corrected.Results[0];
        Assert.False(invalid.Valid);
        Assert.Equal(0, invalid.ReportScore);
        Assert.All(invalid.Timeline, p => Assert.False(p.Valid));
        Assert.True(b.Valid); // the stored row is not changed
        Assert.True(b.Timeline[0].Valid);
        Assert.Equal([(a.AttemptId, "excluded"), (b.AttemptId, "score_invalid")], corrected.Applied.Select(x => (x.Correction.AttemptId, x.Effect)));
    }

    [Fact]
    public void Corrections_apply_in_stream_order_reinstate_undoes_and_other_kinds_change_nothing()
    {
        var a = Completed("x", "alpha", 0.9);
        var b = Completed("x", "alpha", 0.8);
        var d = Completed("x", "alpha", 0.6);
        var stranger = Completed("x", "alpha", 0.5); // a correction of an attempt outside the selection
        // Delivered out of order: number decides. a: excluded then reinstated; b: reinstated then excluded.
        var corrected = Store.ResultCorrections.Apply([a, b, d],
        [
            Correction(a, 2, "reinstate"), Correction(a, 1, "exclude_from_reports"),
            Correction(b, 2, "exclude_from_reports"), Correction(b, 1, "reinstate"),
            Correction(d, 1, "note"), Correction(stranger, 1, "exclude_from_reports"),
        ]);

        Assert.Equal([a.AttemptId, d.AttemptId], corrected.Results.Select(r => r.AttemptId));
        Assert.All(corrected.Results, r => Assert.True(r.Valid));
        var applied = Assert.Single(corrected.Applied);
        Assert.Equal((b.AttemptId, 2L, "excluded"), (applied.Correction.AttemptId, applied.Correction.Number, applied.Effect));
    }
}

/// <summary>Corrections through the Reports API on the real PostgreSQL, and their feed through the real RabbitMQ.</summary>
public sealed class CorrectionsReportsTests(BrokerReportsHost host) : IClassFixture<BrokerReportsHost>
{
    [Fact]
    public async Task An_attempt_corrected_message_changes_ScoreAtK_and_ignore_corrections_shows_the_attempts_as_measured()
    {
        var good = Completed("corr-a", "alpha", 1.0);
        var other = Completed("corr-a", "alpha", 0.2);
        await host.Store.RecordAllAsync([good, other], CancellationToken.None);
        var filter = new ReportFilter { Agents = { "corr-a" } };
        var before = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        Assert.Equal(0.6, before.Rows.Single().Score, 12);
        Assert.Empty(before.CorrectionsApplied);

        var bus = host.Services.GetRequiredService<IBusControl>();
        await ConsumerIdempotencyTests.WaitHealthyAsync(bus);
        var invalid = new AttemptCorrected(Guid.NewGuid(), good.AttemptId, 1, "score_invalid", "scorer bug found", "", "admin-1", "admin",
            DateTimeOffset.UnixEpoch);
        await bus.Publish(invalid);
        await bus.Publish(invalid); // at least once: a redelivery is stored once
        var after = await WaitAsync(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter }).ResponseAsync,
            r => r.CorrectionsApplied.Count > 0);

        var row = after.Rows.Single();
        Assert.Equal(0.1, row.Score, 12); // (0 + 0.2) / 2
        Assert.Equal(1, row.PerTask.Single().AttemptsWithoutValidScore);
        var applied = Assert.Single(after.CorrectionsApplied);
        Assert.Equal((good.AttemptId.ToString(), 1L, "score_invalid", "scorer bug found", "admin-1", "score_invalid"),
            (applied.AttemptId, applied.Number, applied.Kind, applied.Reason, applied.Actor, applied.Effect));
        Assert.Single(await host.Store.CorrectionsForAsync([good.AttemptId], CancellationToken.None));

        var measured = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = new ReportFilter(filter) { IgnoreCorrections = true } });
        Assert.Equal(0.6, measured.Rows.Single().Score, 12);
        Assert.Empty(measured.CorrectionsApplied);

        // Excluded: the attempt leaves score@k, over-time and budgets; costs still count it (the money was spent).
        await bus.Publish(new AttemptCorrected(Guid.NewGuid(), good.AttemptId, 2, "exclude_from_reports", "duplicate run", "", "admin-1", "admin",
            DateTimeOffset.UnixEpoch));
        var excluded = await WaitAsync(() => host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter }).ResponseAsync,
            r => r.CorrectionsApplied.Any(c => c.Effect == "excluded"));
        Assert.Equal((0.2, 1), (excluded.Rows.Single().Score, excluded.Rows.Single().Attempts));
        var overTime = await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest { Filter = filter });
        Assert.Equal(1, overTime.Series.First().Attempts);
        Assert.Equal("excluded", overTime.CorrectionsApplied.Single().Effect);
        var costs = await host.Client.CostsAsync(new CostsRequest { Filter = filter });
        Assert.Equal(2, costs.Attempts.Count);
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not reached within 60 s; last: {value}");
            await Task.Delay(200);
        }
    }
}

/// <summary>A report lists only the corrections of attempts it reads (status and budget), on the real PostgreSQL.</summary>
public sealed class CorrectionsListedTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    private static Store.ResultCorrection Correction(Store.AttemptResult r, string kind) => new()
    {
        Id = Guid.NewGuid(), AttemptId = r.AttemptId, Number = 1, Kind = kind, Reason = kind, Actor = "admin-1",
    };

    [Fact]
    public async Task Only_corrections_of_attempts_the_report_reads_are_listed()
    {
        var halfHour = Completed("listed", "alpha", 0.9);
        var twoHours = Completed("listed", "alpha", 0.8, TwoHours);
        var failed = Completed("listed", "alpha", 0.7).WithStatus("failed");
        await host.Store.RecordAllAsync([halfHour, twoHours, failed], CancellationToken.None);
        foreach (var (r, kind) in new[] { (halfHour, "exclude_from_reports"), (twoHours, "score_invalid"), (failed, "exclude_from_reports") })
            Assert.True(await host.Store.RecordCorrectionAsync(Correction(r, kind), CancellationToken.None));
        var filter = new ReportFilter { Agents = { "listed" } };
        static string[] Ids(IEnumerable<AppliedCorrection> applied) => applied.Select(a => a.AttemptId).Order().ToArray();

        var all = await host.Client.ScoreAtKAsync(new ScoreAtKRequest { K = 1, Filter = filter });
        Assert.Equal(new[] { halfHour.AttemptId.ToString(), twoHours.AttemptId.ToString() }.Order(), Ids(all.CorrectionsApplied));
        var at2h = await host.Client.ScoreAtKAsync(new ScoreAtKRequest
        {
            K = 1, Filter = filter, AttemptBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(2)),
        });
        Assert.Equal([twoHours.AttemptId.ToString()], Ids(at2h.CorrectionsApplied));
        Assert.Equal(0, at2h.Rows.Single().Score); // score_invalid: counted as 0
        var overTime = await host.Client.ScoreOverTimeAsync(new ScoreOverTimeRequest
        {
            Filter = filter, AttemptBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
        });
        Assert.Equal([halfHour.AttemptId.ToString()], Ids(overTime.CorrectionsApplied));
        var budgets = await host.Client.TimeBudgetsAsync(new TimeBudgetsRequest
        {
            Filter = filter, TotalBudget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(2)),
            AttemptBudgets = { Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(2)) },
        });
        Assert.Equal([twoHours.AttemptId.ToString()], Ids(budgets.CorrectionsApplied));
    }
}
