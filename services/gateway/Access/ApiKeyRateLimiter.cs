using System.Threading.RateLimiting;

namespace ReBench.Gateway.Access;

/// <summary>
/// A token bucket per API key for the public listener. Partitions are keyed by already validated keys only, so
/// their number is bounded by the configured keys. A streaming call counts once, however long it runs.
/// </summary>
public sealed class ApiKeyRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public ApiKeyRateLimiter(GatewayOptions options)
    {
        if (options.RateLimitPermitsPerSecond == 0) return;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ =>
            new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.RateLimitBurst,
                TokensPerPeriod = options.RateLimitPermitsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    public bool TryAcquire(string apiKey)
    {
        if (_limiter is null) return true;
        using var lease = _limiter.AttemptAcquire(apiKey);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter?.Dispose();
}
