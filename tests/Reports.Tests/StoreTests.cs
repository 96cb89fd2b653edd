using ReBench.Scoring.Reports;
using static ReBench.Reports.Tests.Results;

namespace ReBench.Reports.Tests;

/// <summary>The Marten results store on the real PostgreSQL.</summary>
public sealed class StoreTests(DatabaseReportsHost host) : IClassFixture<DatabaseReportsHost>
{
    [Fact]
    public async Task Recording_the_same_event_or_the_same_attempt_again_changes_nothing()
    {
        var first = Completed("store-agent", "alpha", 0.4);
        Assert.True(await host.Store.RecordAsync(first, CancellationToken.None));
        Assert.False(await host.Store.RecordAsync(Completed("store-agent", "alpha", 0.9).WithId(first.Id), CancellationToken.None));
        var sameAttempt = Completed("store-agent", "alpha", 0.9);
        sameAttempt.AttemptId = first.AttemptId;
        Assert.False(await host.Store.RecordAsync(sameAttempt, CancellationToken.None));

        var stored = await host.Store.QueryAsync(new ResultQuery([], ["store-agent"], []), CancellationToken.None);
        Assert.Equal(0.4, Assert.Single(stored).NormalizedScore);
    }

    [Fact]
    public async Task Queries_filter_by_task_agent_campaign_and_budget()
    {
        var campaign = Guid.NewGuid();
        await host.Store.RecordAllAsync([
            Completed("filter-a", "alpha", 0.1, HalfHour, campaign),
            Completed("filter-a", "beta", 0.2, TwoHours, campaign),
            Completed("filter-b", "alpha", 0.3, HalfHour),
        ], CancellationToken.None);

        async Task<double[]> Scores(ResultQuery q) =>
            (await host.Store.QueryAsync(q, CancellationToken.None)).Where(r => r.Agent.StartsWith("filter-")).Select(r => r.NormalizedScore!.Value).Order().ToArray();

        Assert.Equal(new[] { 0.1, 0.2 }, await Scores(new ResultQuery([], [], [campaign])));
        Assert.Equal(new[] { 0.1, 0.3 }, await Scores(new ResultQuery(["alpha"], ["filter-a", "filter-b"], [])));
        Assert.Equal(new[] { 0.2 }, await Scores(new ResultQuery(["beta:main"], [], [])));
        Assert.Equal(new[] { 0.3 }, await Scores(new ResultQuery([], ["filter-b"], [], HalfHour)));
        Assert.Empty(await Scores(new ResultQuery(["beta:cpu"], [], [])));
    }
}
