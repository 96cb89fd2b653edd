using System.Data.Common;
using System.Net.Sockets;
using Grpc.Core;
using Polly;
using Polly.Retry;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Which failures are worth trying again: a database that restarted or is starting (PostgreSQL 57P01 "terminating
/// connection due to administrator command" on a pooled connection the restart killed, 57P03 while it starts), a
/// connection that broke, a serialization conflict, a peer that is not answering. One classification for the bus's
/// message retry (libs/Contracts/BusTransport.cs) and the stores' retry of a call, so both agree on what is transient.
/// Walks inner exceptions: Marten and MassTransit wrap the driver's exception.
/// </summary>
public static class TransientFaults
{
    // Class 08 (connection), 57P01-57P03 (shutdown, crash, cannot connect now), 53300 (too many connections),
    // 40001/40P01 (serialization failure, deadlock): the same statement can succeed on a fresh connection or a retry.
    private static readonly HashSet<string> SqlStates = ["08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "53300", "40001", "40P01"];

    public static bool IsTransient(Exception? e)
    {
        for (var depth = 0; e is not null && depth < 16; e = e.InnerException, depth++)
        {
            switch (e)
            {
                // DbException.SqlState and IsTransient are overridden by Npgsql (PostgresException, NpgsqlException).
                case DbException db when db.SqlState is { } state && SqlStates.Contains(state) || db.IsTransient:
                case SocketException or TimeoutException or EndOfStreamException:
                case RpcException { StatusCode: StatusCode.Unavailable }:
                    return true;
                case AggregateException many when many.InnerExceptions.Any(IsTransient):
                    return true;
            }
        }
        return false;
    }

    /// <summary>Retries of a call by <see cref="RetryAsync{T}"/> after its first try (so 1 + this many tries in all).</summary>
    public const int CallRetries = 3;

    /// <summary>Backoff before retry n (1-based): 100 ms, 400 ms, 1.6 s; long enough for a restarted server to accept again.</summary>
    public static TimeSpan Backoff(int retry) => TimeSpan.FromMilliseconds(100 * Math.Pow(4, retry - 1));

    /// <summary>
    /// Runs an idempotent call (a read, or a versioned append that decides again on the state it reads) and tries it
    /// again on a transient failure. <paramref name="onServerRestart"/> runs first when the failure says the server
    /// restarted: every idle pooled connection is dead then, and without clearing the pool each retry would draw
    /// another dead one. A failure that is not transient, or the last one, is thrown as it is.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, Action? onServerRestart, CancellationToken ct)
    {
        for (var retry = 0; ; retry++)
        {
            try
            {
                return await call(ct);
            }
            catch (Exception e) when (retry < CallRetries && !ct.IsCancellationRequested && IsTransient(e))
            {
                if (MeansServerRestarted(e)) onServerRestart?.Invoke();
                await Task.Delay(Backoff(retry + 1), ct);
            }
        }
    }

    /// <summary>
    /// The same retry for Marten's read pipeline (StoreOptions.ExtendPolly: reads only, Marten keeps commits out of
    /// it), so the first read after a PostgreSQL restart does not fail on a dead pooled connection.
    /// </summary>
    public static ResiliencePipelineBuilder AddRetry(ResiliencePipelineBuilder builder, Action onServerRestart) =>
        builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            MaxRetryAttempts = CallRetries, Delay = Backoff(1), BackoffType = DelayBackoffType.Exponential,
            OnRetry = args =>
            {
                if (MeansServerRestarted(args.Outcome.Exception)) onServerRestart();
                return default;
            },
        });

    /// <summary>True for a PostgreSQL error that means every pooled connection may be dead (the server restarted).</summary>
    public static bool MeansServerRestarted(Exception? e)
    {
        for (var depth = 0; e is not null && depth < 16; e = e.InnerException, depth++)
            if (e is DbException { SqlState: "57P01" or "57P02" or "57P03" or "08006" or "08003" } || e is DbException { IsTransient: true, SqlState: null })
                return true;
        return false;
    }
}
