using System.Globalization;
using System.Text.Json;

namespace ReBench.Replay;

/// <summary>
/// One stored attempt event as the replay view sees it: its 1-based version, stored type name and body (JSON as
/// stored). The same shape comes from the live API (ReadAttemptEvents) and from an export bundle's events.jsonl, so
/// the view works on either.
/// </summary>
public sealed record ReplayEvent(long Version, string Type, JsonElement Data, DateTimeOffset? RecordedAt = null)
{
    public static ReplayEvent Parse(long version, string type, string dataJson, DateTimeOffset? recordedAt = null)
    {
        using var doc = JsonDocument.Parse(dataJson);
        return new ReplayEvent(version, type, doc.RootElement.Clone(), recordedAt);
    }

    /// <summary>When it happened: the body's At (every attempt event has one), else when it was stored.</summary>
    public DateTimeOffset? At => Time("At") ?? RecordedAt;

    public string? Text(string name) =>
        Property(name) is { ValueKind: JsonValueKind.String } v ? v.GetString()
        : Property(name) is { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } n ? n.GetRawText() : null;

    public long Long(string name) =>
        Property(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n
        : Property(name) is { ValueKind: JsonValueKind.Number } d ? (long)d.GetDouble() : 0;

    /// <summary>A number; null for JSON null (the platform stores NaN as null) or absent.</summary>
    public double? Double(string name) => Property(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    public bool Bool(string name) => Property(name) is { ValueKind: JsonValueKind.True };

    public DateTimeOffset? Time(string name) =>
        Text(name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>A TimeSpan as System.Text.Json writes it ("00:03:00") or as seconds.</summary>
    public TimeSpan? Duration(string name) => Property(name) switch
    {
        { ValueKind: JsonValueKind.String } v when TimeSpan.TryParse(v.GetString(), CultureInfo.InvariantCulture, out var t) => t,
        { ValueKind: JsonValueKind.Number } n => TimeSpan.FromSeconds(n.GetDouble()),
        _ => null,
    };

    /// <summary>Property by name, case-insensitively (serializer casing settings differ between deployments).</summary>
    public JsonElement? Property(string name)
    {
        if (Data.ValueKind != JsonValueKind.Object) return null;
        if (Data.TryGetProperty(name, out var exact)) return exact;
        foreach (var p in Data.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        }
        return null;
    }
}
