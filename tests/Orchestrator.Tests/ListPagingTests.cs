using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// ListAttempts and ListCampaigns through the gRPC API on the real PostgreSQL: newest first, keyset pages that join
/// up without a gap or a repeat (also across times that PostgreSQL rounds to the same microsecond, and while new
/// items arrive), bounded page sizes and validated page tokens.
/// </summary>
public sealed class ListPagingTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private static readonly DateTimeOffset Yesterday = DateTimeOffset.UtcNow.AddDays(-1);

    private ListClient Client => new(Channel);

    /// <summary>A campaign of <paramref name="attempts"/> attempts of <paramref name="agent"/>, all scheduled at <paramref name="at"/>.</summary>
    private Task<(Guid Campaign, Guid[] Attempts)> CampaignAsync(string agent, int attempts, DateTimeOffset at) =>
        ScheduledCampaign.CreateAsync(Host.Services, "paging", attempts, at, agent);

    private async Task<List<List<Attempt>>> AttemptPagesAsync(ListAttemptsRequest first)
    {
        var pages = new List<List<Attempt>>();
        var request = first.Clone();
        while (true)
        {
            var page = await Client.ListAttemptsAsync(request);
            pages.Add([.. page.Attempts]);
            if (page.NextPageToken == "") return pages;
            Assert.True(pages.Count < 100, "paging does not end");
            request.PageToken = page.NextPageToken;
        }
    }

    /// <summary>PostgreSQL orders by microseconds: times less than 1 µs apart may come in either order (then by id).</summary>
    internal static bool NotOlder(DateTimeOffset earlierInList, DateTimeOffset later) => earlierInList.UtcTicks >= later.UtcTicks - 10;

    [Fact]
    public async Task Attempt_pages_join_up_newest_first_without_gaps_or_repeats()
    {
        var agent = "paging-" + Guid.NewGuid().ToString("N")[..8];
        var ids = new List<Guid>();
        // Ties (a campaign's attempts share scheduled_at) and times 100 ns apart that PostgreSQL keeps as one microsecond.
        foreach (var at in new[] { Yesterday, Yesterday.AddTicks(1), Yesterday.AddTicks(7), Yesterday.AddSeconds(1), Yesterday.AddSeconds(2).AddTicks(5) })
            ids.AddRange((await CampaignAsync(agent, 4, at)).Attempts);

        var whole = (await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 1000 })).Attempts.ToList();
        Assert.Equal(ids.Order(), whole.Select(a => Guid.Parse(a.AttemptId)).Order());
        for (var i = 1; i < whole.Count; i++)
            Assert.True(NotOlder(whole[i - 1].ScheduledAt.ToDateTimeOffset(), whole[i].ScheduledAt.ToDateTimeOffset()), $"not newest first at {i}");

        foreach (var size in new[] { 1, 3, 4, 7 })
        {
            var pages = await AttemptPagesAsync(new ListAttemptsRequest { Agent = agent, PageSize = size });
            Assert.All(pages.SkipLast(1), p => Assert.Equal(size, p.Count));
            Assert.Equal((ids.Count + size - 1) / size, pages.Count);
            Assert.Equal(whole.Select(a => a.AttemptId), pages.SelectMany(p => p).Select(a => a.AttemptId));
        }
    }

    [Fact]
    public async Task Attempts_added_while_paging_neither_shift_nor_repeat_later_pages()
    {
        var agent = "arriving-" + Guid.NewGuid().ToString("N")[..8];
        var old = (await CampaignAsync(agent, 6, Yesterday)).Attempts;
        var first = await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 4 });
        var newer = (await CampaignAsync(agent, 3, Yesterday.AddMinutes(1))).Attempts;
        var second = await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 4, PageToken = first.NextPageToken });

        Assert.Equal("", second.NextPageToken);
        Assert.Equal(old.Order(), first.Attempts.Concat(second.Attempts).Select(a => Guid.Parse(a.AttemptId)).Order());
        // The newer ones come first on a fresh first page.
        var fresh = await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 3 });
        Assert.Equal(newer.Order(), fresh.Attempts.Select(a => Guid.Parse(a.AttemptId)).Order());
    }

    [Fact]
    public async Task Filters_hold_on_every_page_and_the_default_page_is_a_hundred()
    {
        var agent = "default-" + Guid.NewGuid().ToString("N")[..8];
        var (campaign, ids) = await CampaignAsync(agent, 101, Yesterday.AddHours(1));
        await CampaignAsync(agent, 5, Yesterday.AddHours(2)); // same agent, another campaign: filtered out by campaign_id

        var page = await Client.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.ToString() });
        Assert.Equal(100, page.Attempts.Count);
        Assert.NotEqual("", page.NextPageToken);
        var last = await Client.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaign.ToString(), PageToken = page.NextPageToken });
        Assert.Single(last.Attempts);
        Assert.Equal("", last.NextPageToken);
        Assert.Equal(ids.Order(), page.Attempts.Concat(last.Attempts).Select(a => Guid.Parse(a.AttemptId)).Order());
        Assert.All(page.Attempts.Concat(last.Attempts), a => Assert.Equal(campaign.ToString(), a.CampaignId));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(int.MaxValue)]
    public async Task A_page_size_outside_zero_to_a_thousand_is_invalid(int size)
    {
        var a = await Assert.ThrowsAsync<RpcException>(async () => await Client.ListAttemptsAsync(new ListAttemptsRequest { PageSize = size }));
        Assert.Equal(StatusCode.InvalidArgument, a.StatusCode);
        Assert.Contains("page_size", a.Status.Detail);
        var c = await Assert.ThrowsAsync<RpcException>(async () => await Client.ListCampaignsAsync(new ListCampaignsRequest { PageSize = size }));
        Assert.Equal(StatusCode.InvalidArgument, c.StatusCode);
        // Control: the largest size is accepted.
        await Client.ListAttemptsAsync(new ListAttemptsRequest { PageSize = 1000 });
    }

    [Fact]
    public async Task A_malformed_or_foreign_page_token_is_invalid_and_quotes_nothing_of_it()
    {
        var agent = "tokens-" + Guid.NewGuid().ToString("N")[..8];
        await CampaignAsync(agent, 2, Yesterday);
        await CampaignAsync(agent, 1, Yesterday.AddSeconds(1));
        var campaignToken = (await Client.ListCampaignsAsync(new ListCampaignsRequest { PageSize = 1 })).NextPageToken;
        var attemptToken = (await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 1 })).NextPageToken;
        Assert.NotEqual("", campaignToken);
        Assert.NotEqual("", attemptToken);

        static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s)).TrimEnd('=');
        string[] bad =
        [
            "!!!", "abc", new string('A', 10_000), "a\0b", B64("attempts|x|y"), B64($"attempts|{long.MaxValue}|{Guid.NewGuid():N}"),
            B64($"attempts|1|{Guid.NewGuid():N}|extra"), campaignToken, attemptToken[..^2],
        ];
        foreach (var token in bad)
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageToken = token }));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("page_token", e.Status.Detail);
            Assert.True(e.Status.Detail.Length < 200, e.Status.Detail);
        }
        var foreign = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.ListCampaignsAsync(new ListCampaignsRequest { PageToken = attemptToken }));
        Assert.Equal(StatusCode.InvalidArgument, foreign.StatusCode);
        // Control: the tokens themselves work where they came from.
        Assert.Single((await Client.ListAttemptsAsync(new ListAttemptsRequest { Agent = agent, PageSize = 1, PageToken = attemptToken })).Attempts);
        Assert.Single((await Client.ListCampaignsAsync(new ListCampaignsRequest { PageSize = 1, PageToken = campaignToken })).Campaigns);
    }
}

/// <summary>ListCampaigns paging, in a schema of its own so that the whole list is this test's campaigns.</summary>
public sealed class CampaignPagingTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private ListClient Client => new(Channel);

    [Fact]
    public async Task Campaign_pages_join_up_newest_first_without_gaps_or_repeats()
    {
        var t0 = DateTimeOffset.UtcNow.AddDays(-2);
        var created = new List<(Guid Id, DateTimeOffset At)>();
        // Two campaigns per time (ties) and times 100 ns apart.
        foreach (var at in new[] { t0, t0, t0.AddTicks(1), t0.AddTicks(3), t0.AddSeconds(1), t0.AddSeconds(1), t0.AddSeconds(5) })
        {
            var id = Guid.NewGuid();
            var attempt = new AttemptScheduled(Guid.NewGuid(), id, "t", "cpu", "noop", [], 0, TimeSpan.FromHours(1), "test", at);
            await Host.Services.GetRequiredService<CampaignStore>().CreateAsync(new CampaignCreated(id, $"c{created.Count}", [new("t", "cpu")],
                [new("noop", [])], 1, TimeSpan.FromHours(1), [attempt.AttemptId], null, "test", at), [attempt], CancellationToken.None);
            created.Add((id, at));
        }

        var whole = (await Client.ListCampaignsAsync(new ListCampaignsRequest { PageSize = 1000 })).Campaigns.ToList();
        Assert.Equal(created.Select(c => c.Id.ToString()).Order(), whole.Select(c => c.CampaignId).Order());
        Assert.Equal(created[^1].Id.ToString(), whole[0].CampaignId); // newest first
        for (var i = 1; i < whole.Count; i++)
            Assert.True(ListPagingTests.NotOlder(whole[i - 1].CreatedAt.ToDateTimeOffset(), whole[i].CreatedAt.ToDateTimeOffset()), $"not newest first at {i}");

        foreach (var size in new[] { 1, 2, 3 })
        {
            var ids = new List<string>();
            var request = new ListCampaignsRequest { PageSize = size };
            var pages = 0;
            while (true)
            {
                var page = await Client.ListCampaignsAsync(request);
                pages++;
                ids.AddRange(page.Campaigns.Select(c => c.CampaignId));
                if (page.NextPageToken == "") break;
                Assert.Equal(size, page.Campaigns.Count);
                request.PageToken = page.NextPageToken;
            }
            Assert.Equal((created.Count + size - 1) / size, pages);
            Assert.Equal(whole.Select(c => c.CampaignId), ids);
        }
    }
}

/// <summary>The two list methods over a raw call invoker (the orchestrator project generates only the server side).</summary>
internal sealed class ListClient(GrpcChannel channel)
{
    public Task<ListAttemptsResponse> ListAttemptsAsync(ListAttemptsRequest r) => Call("ListAttempts", r, ListAttemptsResponse.Parser);
    public Task<ListCampaignsResponse> ListCampaignsAsync(ListCampaignsRequest r) => Call("ListCampaigns", r, ListCampaignsResponse.Parser);

    private Task<TRes> Call<TReq, TRes>(string name, TReq request, MessageParser<TRes> parser)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        channel.CreateCallInvoker().AsyncUnaryCall(
            new Method<TReq, TRes>(MethodType.Unary, V1.OrchestratorReflection.Descriptor.Services.Single(s => s.FindMethodByName(name) is not null).FullName, name,
                Marshallers.Create<TReq>(m => m.ToByteArray(), _ => throw new NotSupportedException()),
                Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom)),
            null, new CallOptions(), request).ResponseAsync;
}
