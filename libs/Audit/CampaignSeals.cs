using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ReBench.Audit;

/// <summary>One attempt as a campaign seal lists it: the attempt's seal's signed head link and its signature.</summary>
public sealed record AttemptSealRef(string AttemptId, string HeadHash, string Signature);

/// <summary>
/// Campaign seals (docs/audit.md, "Campaign seals"). The signed message is the UTF-8 of the canonical JSON
/// {"attempts":[{"attempt":id,"head":link,"signature":b64},...],"domain":"rebench.campaign-seal.v1","head":link,
/// "stream":campaign id,"version":n}: the campaign stream's link at version n and every attempt's seal, in the
/// campaign's attempt order.
/// </summary>
public static class CampaignSeals
{
    public const string SealType = "campaign_sealed";
    public const string Domain = "rebench.campaign-seal.v1";

    public static byte[] Message(string stream, long version, string head, IEnumerable<AttemptSealRef> attempts)
    {
        var sb = new StringBuilder("{\"attempts\":[");
        var first = true;
        foreach (var a in attempts)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append("{\"attempt\":"); CanonicalJson.String(sb, a.AttemptId);
            sb.Append(",\"head\":"); CanonicalJson.String(sb, a.HeadHash);
            sb.Append(",\"signature\":"); CanonicalJson.String(sb, a.Signature);
            sb.Append('}');
        }
        sb.Append("],\"domain\":"); CanonicalJson.String(sb, Domain);
        sb.Append(",\"head\":"); CanonicalJson.String(sb, head);
        sb.Append(",\"stream\":"); CanonicalJson.String(sb, stream);
        sb.Append(",\"version\":").Append(version.ToString(CultureInfo.InvariantCulture)).Append('}');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The attempts a stored campaign_sealed body lists (members AttemptId, HeadHash, Signature; any casing).</summary>
    public static List<AttemptSealRef> AttemptsOf(JsonElement sealData)
    {
        var list = new List<AttemptSealRef>();
        if (Field(sealData, "Attempts") is not { ValueKind: JsonValueKind.Array } arr) return list;
        foreach (var a in arr.EnumerateArray())
        {
            string S(string name) => Field(a, name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : "";
            list.Add(new AttemptSealRef(S("AttemptId"), S("HeadHash"), S("Signature")));
        }
        return list;
    }

    /// <summary>The attempt seal's signed head and signature from a stored attempt_sealed body.</summary>
    public static AttemptSealRef FromAttemptSeal(string attemptId, string sealDataJson)
    {
        using var doc = JsonDocument.Parse(sealDataJson);
        string S(string name) => Field(doc.RootElement, name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : "";
        return new AttemptSealRef(attemptId, S("HeadHash"), S("Signature"));
    }

    internal static JsonElement? Field(JsonElement d, string name)
    {
        if (d.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in d.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }
}
