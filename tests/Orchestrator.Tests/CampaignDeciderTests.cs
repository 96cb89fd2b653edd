namespace ReBench.Orchestrator.Tests;

public sealed class CampaignDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Redelivered_attempt_ends_are_counted_once_and_the_last_completes_the_campaign()
    {
        var a1 = Guid.NewGuid();
        var a2 = Guid.NewGuid();
        var s = CampaignEvolver.Fold([new CampaignCreated(Guid.NewGuid(), "c", [], [], 1, TimeSpan.FromMinutes(1), [a1, a2], null, "t", T0)]);
        var e1 = Guid.NewGuid();

        var first = CampaignDecider.RecordAttemptFinished(s, a1, e1, "completed", 0.5, T0);
        Assert.Single(first);
        s = first.Aggregate(s, CampaignEvolver.Evolve);
        Assert.Empty(CampaignDecider.RecordAttemptFinished(s, a1, e1, "completed", 0.5, T0)); // same message again
        Assert.Empty(CampaignDecider.RecordAttemptFinished(s, Guid.NewGuid(), Guid.NewGuid(), "completed", 0.5, T0)); // not ours

        var last = CampaignDecider.RecordAttemptFinished(s, a2, Guid.NewGuid(), "failed", null, T0);
        Assert.Equal(2, last.Length);
        Assert.IsType<CampaignCompleted>(last[1]);
        s = last.Aggregate(s, CampaignEvolver.Evolve);
        Assert.True(s.Completed);
    }
}
