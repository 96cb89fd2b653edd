using System.Collections.Concurrent;
using System.Data.Common;
using System.Net.Sockets;
using Grpc.Core;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReBench.Contracts;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Tests;

/// <summary>
/// The message retry every consumer gets from <see cref="BusTransport.UsingConfiguredTransport"/>: a transient
/// failure (a PostgreSQL restart's 57P01) is tried again until it succeeds; a permanent one is not (the control:
/// without it, a policy that retried everything, or nothing, would pass the first test or fail it for the wrong reason).
/// </summary>
public sealed class MessageRetryTests
{
    public sealed record RetryProbe(Guid Id, string SqlState, int Failures);

    /// <summary>A driver error with a SQL state, as Npgsql's PostgresException reports one.</summary>
    private sealed class StateException(string state) : DbException($"simulated {state}")
    {
        public override string SqlState => state;
    }

    private static readonly ConcurrentDictionary<Guid, int> Calls = new();
    private static readonly ConcurrentDictionary<Guid, bool> Succeeded = new();

    public sealed class ProbeConsumer : IConsumer<RetryProbe>
    {
        public Task Consume(ConsumeContext<RetryProbe> context)
        {
            var call = Calls.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
            if (call <= context.Message.Failures) throw new StateException(context.Message.SqlState);
            Succeeded[context.Message.Id] = true;
            return Task.CompletedTask;
        }
    }

    private static async Task<IHost> StartBusAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMassTransit(x =>
        {
            x.AddConsumer<ProbeConsumer>();
            // No RabbitMq:Host: the in-memory transport, configured by the same method as RabbitMQ's (same retry callback).
            x.UsingConfiguredTransport(new ConfigurationBuilder().Build(), "retry-test");
        });
        var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        return host;
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!done() && DateTime.UtcNow < until) await Task.Delay(50, CancellationToken.None);
    }

    [Fact]
    public async Task A_database_restart_error_is_retried_until_the_consumer_succeeds()
    {
        using var host = await StartBusAsync();
        var id = Guid.NewGuid();
        await host.Services.GetRequiredService<IBus>().Publish(new RetryProbe(id, "57P01", 2), CancellationToken.None);
        await WaitAsync(() => Succeeded.ContainsKey(id), TimeSpan.FromSeconds(30));
        Assert.True(Succeeded.ContainsKey(id), $"not consumed after {Calls.GetValueOrDefault(id)} calls");
        Assert.Equal(3, Calls[id]);
        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_permanent_error_is_not_retried()
    {
        using var host = await StartBusAsync();
        var id = Guid.NewGuid();
        // 23505 unique violation: trying again cannot help.
        await host.Services.GetRequiredService<IBus>().Publish(new RetryProbe(id, "23505", 100), CancellationToken.None);
        await WaitAsync(() => Calls.ContainsKey(id), TimeSpan.FromSeconds(30));
        // Longer than the first two backoff intervals: a retry, had there been one, would have come.
        await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
        Assert.Equal(1, Calls.GetValueOrDefault(id));
        Assert.False(Succeeded.ContainsKey(id));
        await host.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData("57P01", true)]
    [InlineData("57P03", true)]
    [InlineData("08006", true)]
    [InlineData("40001", true)]
    [InlineData("23505", false)]
    [InlineData("42P01", false)]
    public void Sql_states_are_classified(string state, bool transient) =>
        Assert.Equal(transient, TransientFaults.IsTransient(new InvalidOperationException("wrapped", new StateException(state))));

    [Fact]
    public void Broken_connections_and_an_unavailable_peer_are_transient_and_a_bad_argument_is_not()
    {
        Assert.True(TransientFaults.IsTransient(new SocketException()));
        Assert.True(TransientFaults.IsTransient(new RpcException(new Status(StatusCode.Unavailable, "down"))));
        Assert.False(TransientFaults.IsTransient(new RpcException(new Status(StatusCode.InvalidArgument, "bad"))));
        Assert.False(TransientFaults.IsTransient(new ArgumentException("bad")));
    }

    [Fact]
    public async Task A_call_retries_a_restart_error_on_a_cleared_pool_and_gives_up_on_a_permanent_one()
    {
        var calls = 0;
        var clears = 0;
        var result = await TransientFaults.RetryAsync(_ => ++calls <= 2 ? throw new StateException("57P01") : Task.FromResult(42),
            () => clears++, CancellationToken.None);
        Assert.Equal(42, result);
        Assert.Equal(3, calls);
        Assert.Equal(2, clears);

        // Control: a unique violation is thrown on the first call, untouched.
        calls = 0;
        var e = await Assert.ThrowsAsync<StateException>(() => TransientFaults.RetryAsync<int>(_ => { calls++; throw new StateException("23505"); },
            () => clears++, CancellationToken.None));
        Assert.Equal("23505", e.SqlState);
        Assert.Equal(1, calls);
        Assert.Equal(2, clears);

        // And a transient failure that outlasts the retries is thrown after 1 + CallRetries calls.
        calls = 0;
        await Assert.ThrowsAsync<StateException>(() => TransientFaults.RetryAsync<int>(_ => { calls++; throw new StateException("57P03"); },
            null, CancellationToken.None));
        Assert.Equal(1 + TransientFaults.CallRetries, calls);
    }
}
