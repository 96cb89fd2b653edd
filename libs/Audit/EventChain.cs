using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ReBench.Audit;

/// <summary>
/// The hash chain over a stream's events. Each event's link is
/// SHA-256(UTF-8(canonical JSON of {"data": body, "prev": previous link, "stream": id, "type": stored type name,
/// "version": n})), in lower-case hex; the first event's "prev" is <see cref="Genesis"/>. Editing, removing or
/// reordering any event changes every link from it on, and the seal signs the last one.
/// </summary>
public static class EventChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Name of the Marten event header (mt_events.headers) that holds an event's link.</summary>
    public const string HeaderName = "chain_hash";

    public static string StreamKey(Guid stream) => stream.ToString("D");

    public static string Link(string prev, Guid stream, long version, string type, string dataJson) =>
        Link(prev, StreamKey(stream), version, type, dataJson);

    public static string Link(string prev, string stream, long version, string type, string dataJson) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Record(prev, stream, version, type, dataJson))));

    /// <summary>The canonical record that is hashed (exposed so docs and tests can show it).</summary>
    public static string Record(string prev, string stream, long version, string type, string dataJson)
    {
        // Keys in canonical (sorted) order: data, prev, stream, type, version.
        var sb = new StringBuilder(dataJson.Length + 200);
        sb.Append("{\"data\":").Append(CanonicalJson.Canonicalize(dataJson));
        sb.Append(",\"prev\":"); CanonicalJson.String(sb, prev);
        sb.Append(",\"stream\":"); CanonicalJson.String(sb, stream);
        sb.Append(",\"type\":"); CanonicalJson.String(sb, type);
        sb.Append(",\"version\":").Append(version.ToString(CultureInfo.InvariantCulture)).Append('}');
        return sb.ToString();
    }
}
