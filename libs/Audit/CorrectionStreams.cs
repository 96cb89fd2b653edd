using System.Text.Json;

namespace ReBench.Audit;

/// <summary>An attempt's corrections stream as exported: its stored events and how many the export said it had.</summary>
public sealed record CorrectionsHistory(string AttemptId, string Stream, IReadOnlyList<StoredEvent> Events, long ExpectedCount);

/// <summary>
/// Corrections streams (docs/audit.md, "Corrections"): one per attempt, at an id derived from the attempt's, chained
/// like any stream but never sealed, holding only attempt_correction_recorded events that name that attempt.
/// </summary>
public static class CorrectionStreams
{
    public const string EventType = "attempt_correction_recorded";
    private static readonly IReadOnlySet<string> NoTerminalTypes = new HashSet<string>();

    /// <summary>A name-based UUID (RFC 9562 version 8) of SHA-256("rebench.corrections.v1:" + attempt id).</summary>
    public static Guid StreamId(Guid attemptId) => DerivedStreamIds.Of("rebench.corrections.v1", attemptId);

    /// <summary>The chain (no seal expected), the stream id, and that every event is a correction of this attempt.</summary>
    public static ChainReport Verify(CorrectionsHistory h, IReadOnlyDictionary<string, byte[]> trustedKeys)
    {
        ChainReport Broken(long at, string problem) => new(false, 0, at, problem, false, 0, null, "");
        if (!Guid.TryParse(h.AttemptId, out var attempt) || EventChain.StreamKey(StreamId(attempt)) != h.Stream)
            return Broken(1, $"stream {h.Stream} is not the corrections stream of attempt {h.AttemptId}");
        // Types first: a well-linked event of another type (a forged "seal", say) never reaches the seal check.
        foreach (var e in h.Events.Where(e => e.Type != EventType))
            return Broken(e.Version, $"event {e.Version} is a {e.Type}, not a correction");
        var r = ChainVerifier.Verify(h.Stream, h.Events, trustedKeys, h.ExpectedCount, NoTerminalTypes);
        if (!r.Ok) return r;
        foreach (var e in h.Events)
        {
            using var doc = JsonDocument.Parse(e.DataJson);
            // The chain links any JSON, and corrections are not signed: a well-linked body may still be no object at all.
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return r with { Ok = false, BrokenAt = e.Version, Problem = $"correction {e.Version} has a body that is not a JSON object" };
            var named = doc.RootElement.EnumerateObject().FirstOrDefault(p => p.Name.Equals("AttemptId", StringComparison.OrdinalIgnoreCase)).Value;
            // The same comparison as tools/audit/verify_bundle.py: the id as written, case aside.
            if (named.ValueKind != JsonValueKind.String || !string.Equals(named.GetString(), h.AttemptId, StringComparison.OrdinalIgnoreCase))
                return r with { Ok = false, BrokenAt = e.Version, Problem = $"correction {e.Version} names attempt {named}, not {h.AttemptId}" };
        }
        return r;
    }
}
