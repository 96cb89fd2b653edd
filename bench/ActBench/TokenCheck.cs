using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using ReBench.ServiceDefaults.PlatformAuth;
using ReBench.Testing;

namespace ReBench.Bench;

/// <summary>The backend's token check alone: a token it has seen (the common case: services reuse a token for minutes) and new ones.</summary>
internal static class TokenCheck
{
    public static async Task<(double RememberedUs, double NewUs)> MeasureAsync()
    {
        var keys = PlatformKeys.From(new ConfigurationBuilder().AddInMemoryCollection([TestPlatformKey.Setting]).Build());
        var validator = new PlatformTokenValidator(keys, TimeProvider.System);
        var token = TestPlatformKey.Token();
        const int remembered = 100_000, fresh = 2_000;
        var news = Enumerable.Range(0, fresh).Select(i => TestPlatformKey.Token($"service:bench{i}")).ToList();
        for (var i = 0; i < 1000; i++) await validator.ValidateAsync(token);
        var t = Stopwatch.GetTimestamp();
        for (var i = 0; i < remembered; i++)
            if ((await validator.ValidateAsync(token)).Caller is null) throw new InvalidOperationException("token refused");
        var rememberedUs = Stopwatch.GetElapsedTime(t).TotalMicroseconds / remembered;
        t = Stopwatch.GetTimestamp();
        foreach (var n in news)
            if ((await validator.ValidateAsync(n)).Caller is null) throw new InvalidOperationException("token refused");
        return (rememberedUs, Stopwatch.GetElapsedTime(t).TotalMicroseconds / fresh);
    }
}
