namespace ReBench.Orchestrator.Tests;

/// <summary>ReexecuteAttempt's refusals and the campaign it records, on folded attempt states.</summary>
public sealed class ReexecutionRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid SourceId = Guid.NewGuid();

    private static AttemptState Source(bool started = true, bool ended = true)
    {
        var events = new List<object>
        {
            new AttemptScheduled(SourceId, Guid.NewGuid(), "ai_rd_triton_cumsum", "cpu", "scripted",
                new Dictionary<string, string> { ["script"] = "{}" }, 0, TimeSpan.FromMinutes(3), "api", T0),
        };
        if (started)
            events.Add(new AttemptStarted(SourceId, "env", "local", "node", "1.0", "sha256:aaa", "sha256:bbb", 0, 1, "max", true,
                T0.AddMinutes(3), "dev", "orchestrator", T0));
        if (ended) events.Add(new AttemptCancelled(SourceId, "test", "api", T0.AddMinutes(1)));
        return AttemptEvolver.Fold(events);
    }

    [Fact]
    public void An_unknown_attempt_is_not_found()
    {
        var e = Assert.Throws<DomainRejection>(() => ReexecutionRules.CheckSource(null, SourceId));
        Assert.Equal(RejectionKind.NotFound, e.Kind);
        Assert.Contains(SourceId.ToString(), e.Message);
    }

    [Fact]
    public void A_running_attempt_is_refused_as_not_ended()
    {
        var e = Assert.Throws<DomainRejection>(() => ReexecutionRules.CheckSource(Source(ended: false), SourceId));
        Assert.Equal(RejectionKind.FailedPrecondition, e.Kind);
        Assert.Contains("has not ended (it is running)", e.Message);
    }

    [Fact]
    public void An_attempt_cancelled_before_it_started_has_nothing_to_re_execute()
    {
        var e = Assert.Throws<DomainRejection>(() => ReexecutionRules.CheckSource(Source(started: false), SourceId));
        Assert.Equal(RejectionKind.FailedPrecondition, e.Kind);
        Assert.Contains("never started", e.Message);
    }

    [Fact]
    public void A_changed_bundle_is_refused_naming_both_digests()
    {
        var source = Source();
        Assert.Equal("sha256:aaa", ReexecutionRules.CheckSource(source, SourceId));
        ReexecutionRules.CheckBundle(source, "sha256:aaa");
        var e = Assert.Throws<DomainRejection>(() => ReexecutionRules.CheckBundle(source, "sha256:ccc"));
        Assert.Equal(RejectionKind.FailedPrecondition, e.Kind);
        Assert.Contains("sha256:aaa", e.Message);
        Assert.Contains("sha256:ccc", e.Message);
    }

    [Fact]
    public void The_re_execution_is_a_replay_attempt_of_the_same_task_and_budget_linked_to_the_source()
    {
        var source = Source();
        var (campaign, attempt) = ReexecutionRules.Plan(source, Guid.NewGuid(), Guid.NewGuid(), null, "auditor", T0.AddHours(1));
        Assert.Equal((source.TaskId, source.Variant, source.TimeBudget), (attempt.TaskId, attempt.Variant, attempt.TimeBudget));
        Assert.Equal("replay", attempt.Agent);
        Assert.Equal(SourceId.ToString(), attempt.AgentSettings["source_attempt"]);
        Assert.Equal(SourceId, attempt.ReexecutionOf);
        Assert.Equal([attempt.AttemptId], campaign.AttemptIds);
        Assert.Equal(attempt.CampaignId, campaign.CampaignId);
        Assert.Equal(1, campaign.AttemptsPerPair);

        // The link survives the fold into the state and the view the API reads.
        var state = AttemptEvolver.Fold([attempt]);
        Assert.Equal(SourceId, state.ReexecutionOf);
        Assert.Equal(SourceId, AttemptView.From(state).ReexecutionOf);

        // Audit work, set here by the server (no request field reaches it), on the campaign and in the attempt's own stream.
        Assert.True(campaign.AuditWork);
        Assert.True(attempt.AuditWork);
        Assert.True(state.AuditWork);
        Assert.True(CampaignEvolver.Fold([campaign]).AuditWork);
    }

    [Fact]
    public void An_attempt_scheduled_stored_before_the_link_existed_loads_without_one()
    {
        var old = new AttemptScheduled(SourceId, Guid.NewGuid(), "t", "v", "noop", [], 0, TimeSpan.FromMinutes(1), "api", T0);
        var json = System.Text.Json.JsonSerializer.Serialize(old).Replace(",\"ReexecutionOf\":null", "");
        Assert.DoesNotContain("ReexecutionOf", json);
        var loaded = System.Text.Json.JsonSerializer.Deserialize<AttemptScheduled>(json)!;
        Assert.Null(loaded.ReexecutionOf);
        Assert.Null(AttemptEvolver.Fold([loaded]).ReexecutionOf);
        Assert.False(AttemptEvolver.Fold([loaded]).AuditWork);
        // A re-execution scheduled before the mark existed is audit work all the same.
        Assert.True(AttemptEvolver.Fold([loaded with { ReexecutionOf = Guid.NewGuid() }]).AuditWork);
    }
}
