namespace ReBench.EndToEnd.Tests;

/// <summary>Each refusal comes back with the right status and a message naming the problem, and appends nothing.</summary>
[Collection(PlatformCollection.Name)]
public sealed class BadInputTests(PlatformProcesses platform) : PlatformTest(platform)
{
    private static CreateCampaignRequest Valid() => new()
    {
        Name = "bad-input", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(1)),
        Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
        Agents = { new AgentSpec { Name = "noop" } },
    };

    private async Task<RpcException> RejectedCreate(CreateCampaignRequest request)
    {
        var client = Platform.Orchestrator();
        var before = await EndState.AllCampaignIdsAsync(Platform);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.Campaigns.CreateCampaignAsync(request));
        Assert.Equal(before, await EndState.AllCampaignIdsAsync(Platform));
        return e;
    }

    [Fact]
    public async Task Unknown_task_is_not_found()
    {
        var r = Valid();
        r.Tasks[0].TaskId = "no_such_task";
        var e = await RejectedCreate(r);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("no_such_task", e.Status.Detail);
    }

    [Fact]
    public async Task Unknown_agent_is_not_found()
    {
        var r = Valid();
        r.Agents[0].Name = "gpt-wizard";
        var e = await RejectedCreate(r);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("unknown agent 'gpt-wizard'", e.Status.Detail);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public async Task K_below_one_is_invalid(int k)
    {
        var r = Valid();
        r.AttemptsPerPair = k;
        var e = await RejectedCreate(r);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("attempts_per_pair", e.Status.Detail);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-30)]
    public async Task Budget_of_zero_or_less_is_invalid(int seconds)
    {
        var r = Valid();
        r.TimeBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds));
        var e = await RejectedCreate(r);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("time_budget", e.Status.Detail);
    }

    [Fact]
    public async Task Unknown_attempt_id_is_not_found_and_a_malformed_one_invalid()
    {
        var client = Platform.Orchestrator();
        var id = Guid.NewGuid().ToString();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains(id, e.Status.Detail);
        // The attempt-session API names no attempt it has not issued a credential for: a made-up one is not this attempt's.
        var madeUp = new string('A', 43);
        var s = await Assert.ThrowsAsync<RpcException>(async () => await Platform.Session(madeUp).ScoreAsync(new ScoreRequest { AttemptId = id, StepId = "1" }));
        Assert.Equal(StatusCode.PermissionDenied, s.StatusCode);
        Assert.DoesNotContain(madeUp, s.Status.Detail);
        s = await Assert.ThrowsAsync<RpcException>(async () => await Platform.Session(madeUp).ScoreAsync(new ScoreRequest { AttemptId = "not-a-uuid", StepId = "1" }));
        Assert.Equal(StatusCode.InvalidArgument, s.StatusCode);
        var bad = await Assert.ThrowsAsync<RpcException>(async () => await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = "not-a-uuid" }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }

    [Fact]
    public async Task Missing_or_wrong_api_key_is_unauthenticated()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(async () =>
            await Platform.Orchestrator(apiKey: null).Campaigns.ListCampaignsAsync(new ListCampaignsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("API key", missing.Status.Detail);
        var wrong = await Assert.ThrowsAsync<RpcException>(async () =>
            await Platform.Orchestrator(apiKey: "wrong").Campaigns.ListCampaignsAsync(new ListCampaignsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Contains("invalid API key", wrong.Status.Detail);
    }

    [Fact]
    public async Task Steps_on_an_ended_attempt_and_paths_leaving_the_sandbox_are_refused_without_appending()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Valid());
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(3))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        // The attempt's own driver's credential: the ended attempt refuses it (FAILED_PRECONDITION, not a permission problem).
        var session = Platform.Session(Platform.CredentialOf(attempt.AttemptId));
        var before = (await Waits.EventsAsync(client, attempt.AttemptId)).Count;

        var act = await Assert.ThrowsAsync<RpcException>(async () => await session.ActAsync(new ActRequest
        {
            AttemptId = attempt.AttemptId, StepId = "late-1", Run = new RunCommand { Command = "echo too late" },
        }));
        Assert.Equal(StatusCode.FailedPrecondition, act.StatusCode);
        Assert.Contains("completed", act.Status.Detail);
        var score = await Assert.ThrowsAsync<RpcException>(async () => await session.ScoreAsync(new ScoreRequest { AttemptId = attempt.AttemptId, StepId = "late-2" }));
        Assert.Equal(StatusCode.FailedPrecondition, score.StatusCode);
        var submit = await Assert.ThrowsAsync<RpcException>(async () => await session.SubmitAsync(new SubmitRequest { AttemptId = attempt.AttemptId, StepId = "late-3" }));
        Assert.Equal(StatusCode.FailedPrecondition, submit.StatusCode);

        foreach (var path in new[] { "../outside.txt", "/etc/passwd", "a/../../b" })
        {
            var write = await Assert.ThrowsAsync<RpcException>(async () => await session.ActAsync(new ActRequest
            {
                AttemptId = attempt.AttemptId, StepId = "path-" + path,
                WriteFile = new WriteFile { Path = path, Content = ByteString.CopyFromUtf8("x") },
            }));
            // A bad path on a live attempt is a failed step (EnvironmentEndTests); on an ended one nothing is recorded.
            Assert.Equal(StatusCode.FailedPrecondition, write.StatusCode);
            Assert.Contains("completed", write.Status.Detail);
        }
        Assert.Equal(before, (await Waits.EventsAsync(client, attempt.AttemptId)).Count);
    }

    [Fact]
    public async Task The_AttemptSession_api_is_not_reachable_on_the_public_listener()
    {
        var publicSession = new AttemptSession.AttemptSessionClient(Platform.PublicChannel());
        var e = await Assert.ThrowsAsync<RpcException>(async () => await publicSession.ScoreLogAsync(new ScoreLogRequest { AttemptId = Guid.NewGuid().ToString() }));
        Assert.Contains(e.StatusCode, new[] { StatusCode.PermissionDenied, StatusCode.Unimplemented });
    }
}
