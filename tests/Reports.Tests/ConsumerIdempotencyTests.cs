using MassTransit;
using ReBench.Contracts;
using ReBench.Scoring.Reports;

namespace ReBench.Reports.Tests;

/// <summary>The results store's feed over the real RabbitMQ into the real PostgreSQL: at-least-once made exactly-once.</summary>
public sealed class ConsumerIdempotencyTests(BrokerReportsHost host) : IClassFixture<BrokerReportsHost>
{
    [Fact]
    public async Task An_attempt_finished_delivered_twice_through_RabbitMq_is_stored_once()
    {
        var bus = host.Services.GetRequiredService<IBusControl>();
        await WaitHealthyAsync(bus);
        var message = new AttemptFinished(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "alpha", "cpu", "modular", "completed",
            2.0, 0.75, true, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
        {
            TimeBudgetSeconds = 1800,
            WorkingSeconds = 1700.5,
            CostUsd = 1.25,
            ModelCalls = 12,
            ScoreTimeline = [new ScorePoint(60_000, false, null, null), new ScorePoint(600_000, true, 2.0, 0.75)],
        };
        var observer = new Counter(message.EventId);
        using var _ = bus.ConnectConsumeObserver(observer);

        await bus.Publish(message);
        await bus.Publish(message);
        await WaitConsumedAsync(observer, 2);
        // A late redelivery of the same event id changes nothing, even with other content (real ones never have any).
        await bus.Publish(message with { NormalizedScore = 0.1 });
        await WaitConsumedAsync(observer, 3);

        var stored = (await host.Store.QueryAsync(ResultQuery.All, CancellationToken.None)).Where(r => r.AttemptId == message.AttemptId).ToList();
        var r = Assert.Single(stored);
        Assert.Equal((message.EventId, message.CampaignId, "alpha", "cpu", "modular", "completed"), (r.Id, r.CampaignId, r.TaskId, r.Variant, r.Agent, r.Status));
        Assert.Equal((2.0, 0.75, true), (r.RawScore, r.NormalizedScore, r.Valid));
        Assert.Equal((1800.0, 1700.5, 1.25, 12L, CostBasis.ModelCalls), (r.TimeBudgetSeconds, r.WorkingSeconds, r.CostUsd, r.ModelCalls, r.CostBasis));
        Assert.Equal([new ResultPoint(60_000, false, null, null), new ResultPoint(600_000, true, 2.0, 0.75)], r.Timeline);
    }

    private static async Task WaitConsumedAsync(Counter observer, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (observer.Consumed < count && observer.Faults == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(0, observer.Faults);
        Assert.True(observer.Consumed == count, $"only {observer.Consumed} of {count} deliveries were consumed within 60 s");
    }

    internal static async Task WaitHealthyAsync(IBusControl bus)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (bus.CheckHealth().Status != BusHealthStatus.Healthy)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the bus is not healthy after 60 s: {bus.CheckHealth().Description}");
            await Task.Delay(100);
        }
    }

    /// <summary>Counts finished deliveries of one event id (after the consumer ran, whatever it did).</summary>
    private sealed class Counter(Guid eventId) : IConsumeObserver
    {
        private int _consumed, _faults;
        public int Consumed => Volatile.Read(ref _consumed);
        public int Faults => Volatile.Read(ref _faults);

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            if (context.Message is AttemptFinished m && m.EventId == eventId) Interlocked.Increment(ref _consumed);
            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
        {
            if (context.Message is AttemptFinished m && m.EventId == eventId) Interlocked.Increment(ref _faults);
            return Task.CompletedTask;
        }
    }
}
