using Grpc.Core;
using Microsoft.Extensions.Options;

namespace ReBench.Agents.Session;

/// <summary>
/// Retries calls that failed because the other side was briefly unreachable (a restart, a dropped connection) with
/// exponential backoff. Only safe for idempotent calls: session steps carry a step id for exactly that reason.
/// </summary>
public sealed class TransientRetry(IOptions<AgentsOptions> options, TimeProvider time, ILogger<TransientRetry> logger)
{
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var o = options.Value;
        var started = time.GetTimestamp();
        var delay = o.RetryInitialDelay;
        for (var retry = 1; ; retry++)
        {
            try
            {
                return await call(ct);
            }
            catch (RpcException e) when (IsTransient(e, ct) && time.GetElapsedTime(started) + delay <= o.RetryGiveUpAfter)
            {
                logger.LogWarning("{What} failed ({Status}: {Detail}); retry {Retry} in {DelayMs} ms",
                    what, e.StatusCode, e.Status.Detail, retry, (long)delay.TotalMilliseconds);
            }
            await Task.Delay(delay, time, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, o.RetryMaxDelay.Ticks));
        }
    }

    public static bool IsTransient(RpcException e, CancellationToken ct) => e.StatusCode switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => true,
        // Grpc.Net.Client reports some transport failures (a connection reset mid-call) as Internal.
        StatusCode.Internal => e.Status.Detail.Contains("connection", StringComparison.OrdinalIgnoreCase)
            || e.Status.Detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal)
            || e.Status.Detail.StartsWith("Error reading next message", StringComparison.Ordinal),
        // A server shutting down cancels the calls it is serving; only our own cancellation is final.
        StatusCode.Cancelled => !ct.IsCancellationRequested,
        _ => false,
    };
}
