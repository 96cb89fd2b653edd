using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Grpc;

/// <summary>What the public API's adapters share: who is calling, and the checks of common request fields.</summary>
internal static class ApiCalls
{
    /// <summary>Who asked: the gateway forwards the authenticated principal (<see cref="CallerIdentity"/>).</summary>
    public static string Caller(ServerCallContext context) => CallerIdentity.Principal(context);

    /// <summary>The caller's role as the gateway forwards it ("" when called directly).</summary>
    public static string Role(ServerCallContext context) => CallerIdentity.Role(context);

    public static Guid AttemptId(string text) => Guard.Id(text, "attempt_id");

    public static Guid CampaignId(string text) => Guard.Id(text, "campaign_id");

    /// <summary>Stream versions are 1-based; 0 (unset) reads from the start.</summary>
    public static long FromVersion(long v) =>
        v < 0 ? throw Guard.Invalid($"from_version must not be negative, got {v}") : Math.Max(1, v);

    /// <summary>
    /// Rows after the token's (time, id) in the newest-first order. The time is compared as the same cast of the
    /// stored JSON text that the ORDER BY uses, and the token's time is passed as text with all 7 fractional digits,
    /// so PostgreSQL rounds both to microseconds alike and an item is never skipped or repeated at a page boundary.
    /// </summary>
    public static string After(string timeField) => $"(CAST(d.data ->> '{timeField}' AS timestamptz), d.id) < (CAST(? AS timestamptz), ?)";

    public static string Iso(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", System.Globalization.CultureInfo.InvariantCulture);
}
