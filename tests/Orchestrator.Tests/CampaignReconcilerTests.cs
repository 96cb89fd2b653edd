using ReBench.Orchestrator.Audit;
using ReBench.Orchestrator.Campaigns;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The campaign reconciler on the real PostgreSQL: a campaign whose attempts all ended but whose
/// <c>campaign_attempt_finished</c> entries, completion and seal were lost (as when the page that would have recorded
/// them failed on a connection a database restart killed) is completed and sealed, exactly once however many
/// reconcilers race, and verifies; before that, verification states the true reason it is unsealed.
/// </summary>
public sealed class CampaignReconcilerTests(OrchestratorHost host) : IClassFixture<OrchestratorHost>
{
    private readonly AuditFixtures _f = new(Started(host));

    private static OrchestratorHost Started(OrchestratorHost host)
    {
        _ = host.Server;
        return host;
    }

    private async Task<IReadOnlyList<string>> TypesAsync(Guid campaign) =>
        [.. (await _f.Get<CampaignAuditor>().ReadAsync(campaign, CancellationToken.None)).Select(e => e.Type)];

    /// <summary>Waits for the campaign's own progress to seal it (or seals it as CampaignProgress would), then loses all of it.</summary>
    private async Task LoseEverythingAfterCreationAsync(Guid campaign, Guid[] attempts)
    {
        var store = _f.Get<CampaignStore>();
        for (var i = 0; i < 100 && !(await store.TryLoadAsync(campaign, CancellationToken.None))!.Sealed; i++) await Task.Delay(100);
        foreach (var a in attempts)
            await store.AppendAsync(campaign, s => CampaignDecider.RecordAttemptFinished(s, a, Guid.NewGuid(), "failed", null, AuditFixtures.T0), CancellationToken.None);
        Assert.Equal(["campaign_created", "campaign_attempt_finished", "campaign_attempt_finished", "campaign_completed", "campaign_sealed"], await TypesAsync(campaign));
        await _f.SqlAsync("delete from mt_events where stream_id = $1 and version > 1", campaign);
        await _f.SqlAsync($"update \"{host.Schema}\".mt_streams set version = 1 where id = $1", campaign);
        Assert.Equal(["campaign_created"], await TypesAsync(campaign));
    }

    [Fact]
    public async Task A_campaign_whose_attempt_ends_were_lost_is_completed_and_sealed_once_and_verifies()
    {
        var (campaign, attempts) = await _f.CampaignAsync(2);
        foreach (var a in attempts) await _f.AttemptWithBlobsAsync(a);
        await LoseEverythingAfterCreationAsync(campaign, attempts);

        var before = await _f.Get<CampaignAuditor>().VerifyAsync(campaign, CancellationToken.None);
        Assert.True(before.Ok, before.Problem);
        Assert.False(before.Sealed);
        Assert.Contains("every attempt ended (2 of 2) but the campaign was not completed", before.UnsealedReason);

        // Two rounds at once (as two would race with CampaignProgress's normal delivery): each end is recorded once.
        var reconciler = _f.Get<CampaignReconciler>();
        var rounds = await Task.WhenAll(reconciler.ReconcileAsync(CancellationToken.None), reconciler.ReconcileAsync(CancellationToken.None));
        Assert.InRange(rounds.Sum(), 0, 2); // the hosted reconciler may have taken some: never more than two in all

        Assert.Equal(["campaign_created", "campaign_attempt_finished", "campaign_attempt_finished", "campaign_completed", "campaign_sealed"], await TypesAsync(campaign));
        var after = await _f.Get<CampaignAuditor>().VerifyAsync(campaign, CancellationToken.None);
        Assert.True(after.Ok, after.Problem);
        Assert.True(after.Sealed);
        Assert.Null(after.UnsealedReason);
        Assert.Equal(0, await reconciler.ReconcileAsync(CancellationToken.None)); // nothing more to derive
    }

    [Fact]
    public async Task A_campaign_with_a_running_attempt_is_left_alone_and_says_so()
    {
        // Control: the reconciler records only ends the log holds; an attempt still running keeps the campaign open.
        var (campaign, attempts) = await _f.CampaignAsync(2);
        await _f.AttemptWithBlobsAsync(attempts[0]);
        await _f.AttemptWithBlobsAsync(attempts[1], end: false);

        await _f.Get<CampaignReconciler>().ReconcileAsync(CancellationToken.None);

        var state = await _f.Get<CampaignStore>().TryLoadAsync(campaign, CancellationToken.None);
        Assert.False(state!.Completed);
        Assert.Equal([attempts[0]], state.FinishedAttempts);
        var report = await _f.Get<CampaignAuditor>().VerifyAsync(campaign, CancellationToken.None);
        Assert.True(report.Ok, report.Problem);
        Assert.Equal("1 of 2 attempts have not ended yet", report.UnsealedReason);
    }
}
