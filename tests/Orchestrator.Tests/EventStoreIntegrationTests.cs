using MassTransit;
using ReBench.Contracts;

namespace ReBench.Orchestrator.Tests;

/// <summary>Real PostgreSQL and real RabbitMQ: the event store, optimistic concurrency and reading the committed log.</summary>
public sealed class EventStoreIntegrationTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    // Real time (the base's T0) and a long attempt budget: the host's supervisor is running and would end an attempt whose deadline passed.
    private Task<(Guid Campaign, Guid[] Attempts)> CreateCampaignAsync(int attempts) =>
        CampaignAsync("it", attempts, campaignBudget: TimeSpan.FromMinutes(1));

    [Fact]
    public async Task Concurrent_writers_neither_lose_nor_duplicate_events()
    {
        var (_, ids) = await CreateCampaignAsync(1);
        var id = ids[0];
        var store = Get<AttemptStore>();
        var info = new AttemptDecider.StartInfo("env", "local", "node", "1", "b", "s", 2, 1, "min", true, "dev");
        await store.AppendAsync(id, s => AttemptDecider.Start(s, info, "test", T0), CancellationToken.None);

        // 20 writers race on one stream; each retries on a version conflict against the fresh state.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => store.AppendAsync(id,
            s => [new ModelCallCompleted(id, $"call-{i}", "p", "m", 1, 1, 0, 0, 0, 1, "{}", "{}", T0)], CancellationToken.None))));

        await using var session = Get<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(id);
        Assert.Equal(22, events.Count);
        Assert.Equal(Enumerable.Range(1, 22).Select(i => (long)i), events.Select(e => e.Version));
        Assert.Equal(20, events.Select(e => e.Data).OfType<ModelCallCompleted>().Select(m => m.StepId).Distinct().Count());
        var view = await session.LoadAsync<AttemptView>(id);
        Assert.Equal(22, view!.Version); // the view was written in the same transactions as the events
    }

    [Fact]
    public async Task Stored_event_type_names_are_stable()
    {
        var (_, ids) = await CreateCampaignAsync(1);
        await using var session = Get<IDocumentStore>().QuerySession();
        var e = (await session.Events.FetchStreamAsync(ids[0])).Single();
        Assert.Equal("attempt_scheduled", e.EventTypeName);
        var json = Get<IDocumentStore>().Options.Serializer().ToJson(e.Data);
        foreach (var field in new[] { "attemptId", "campaignId", "taskId", "variant", "agent", "timeBudget", "actor", "at" })
            Assert.Contains($"\"{field}\"", json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Attempt_ends_reach_the_campaign_in_process_and_the_bus_from_the_committed_log()
    {
        // Other services still hear of attempt ends on the bus; the orchestrator itself no longer consumes them.
        var published = new System.Collections.Concurrent.ConcurrentBag<AttemptFinished>();
        var endpoint = Get<IBus>().ConnectReceiveEndpoint(new TemporaryEndpointDefinition(), KebabCaseEndpointNameFormatter.Instance,
            e => e.Handler<AttemptFinished>(ctx => { published.Add(ctx.Message); return Task.CompletedTask; }));
        await endpoint.Ready;
        try
        {
            var (campaignId, ids) = await CreateCampaignAsync(2);
            var store = Get<AttemptStore>();
            foreach (var id in ids) await store.AppendAsync(id, s => AttemptDecider.Fail(s, "test failure", T0), CancellationToken.None);

            var campaigns = Get<CampaignStore>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            CampaignState? state;
            do
            {
                await Task.Delay(200);
                state = await campaigns.TryLoadAsync(campaignId, CancellationToken.None);
            } while ((state is { Completed: false } || published.Count(m => m.CampaignId == campaignId) < 2) && DateTime.UtcNow < deadline);

            Assert.NotNull(state);
            Assert.True(state!.Completed, "the campaign did not hear of both attempt ends within 60 s");
            Assert.Equal(ids.ToHashSet(), state.FinishedAttempts.ToHashSet());
            Assert.Equal(5, state.Version); // created, 2 x attempt finished, completed, sealed (docs/audit.md): no duplicates
            Assert.Equal(ids.ToHashSet(), published.Where(m => m.CampaignId == campaignId).Select(m => m.AttemptId).ToHashSet());
            Assert.All(published.Where(m => m.CampaignId == campaignId), m => Assert.Equal("failed", m.Status));

            // Each message names the attempt's terminal event and its chain link (bound to the sealed record), and what
            // a verification derives from the stored rows is exactly what was published.
            var derived = await Get<ReBench.Orchestrator.Audit.SealedResults>().DeriveAsync(ids, CancellationToken.None);
            foreach (var m in published.Where(m => m.CampaignId == campaignId))
            {
                Assert.True(m.FinalVersion > 0);
                Assert.Equal(64, m.ChainHash?.Length);
                Assert.False(m.AuditWork);
                Assert.Equal(ReBench.Orchestrator.Audit.SealedResults.ToProto(m), Assert.Single(derived, d => d.AttemptId == m.AttemptId.ToString()));
            }
        }
        finally
        {
            await endpoint.StopAsync();
        }
    }

    [Fact]
    public void The_orchestrator_consumes_none_of_its_own_integration_events()
    {
        // Control for the test above: with a consumer of its own, the campaign could still be hearing of attempt
        // ends through the bus (a broker round trip inside one service).
        var consumers = typeof(OrchestratorEntryPoint).Assembly.GetTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>)));
        Assert.Empty(consumers);
    }
}
