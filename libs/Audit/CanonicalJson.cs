using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ReBench.Audit;

/// <summary>
/// The canonical text of a JSON value, so that the same value hashes the same whoever serialized it (the .NET
/// serializer, PostgreSQL's jsonb output, a Python script). Rules (docs/audit.md is the reference):
/// objects with keys sorted by their UTF-8 bytes, no whitespace, strings escaping only <c>"</c>, <c>\</c> and
/// U+0000..U+001F (as <c>\u00xx</c>, lower-case hex), numbers by exact decimal value (see <see cref="Number"/>).
/// </summary>
public static class CanonicalJson
{
    public static string Canonicalize(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        var sb = new StringBuilder(json.Length);
        Write(sb, doc.RootElement);
        return sb.ToString();
    }

    public static void Write(StringBuilder sb, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var props = e.EnumerateObject().Select(p => (Name: p.Name, Key: Encoding.UTF8.GetBytes(p.Name), p.Value)).ToList();
                props.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
                sb.Append('{');
                for (var i = 0; i < props.Count; i++)
                {
                    if (i > 0 && props[i].Name == props[i - 1].Name) throw new FormatException($"duplicate key \"{props[i].Name}\"");
                    if (i > 0) sb.Append(',');
                    String(sb, props[i].Name);
                    sb.Append(':');
                    Write(sb, props[i].Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in e.EnumerateArray())
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(sb, item);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String: String(sb, e.GetString()!); break;
            case JsonValueKind.Number: sb.Append(Number(e.GetRawText())); break;
            case JsonValueKind.True: sb.Append("true"); break;
            case JsonValueKind.False: sb.Append("false"); break;
            case JsonValueKind.Null: sb.Append("null"); break;
            default: throw new FormatException($"unexpected JSON value kind {e.ValueKind}");
        }
    }

    public static void String(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case < ' ': sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }

    /// <summary>
    /// A JSON number literal by its exact decimal value: the value is sign x D x 10^E with D a digit string with
    /// neither leading nor trailing zeros. E &gt;= 0 prints as a plain integer (D then E zeros); E &lt; 0 prints as
    /// D, "e", E (1.5 -> "15e-1", 0.001 -> "1e-3"). Zero is "0". So 1, 1.0, 1E0 and 10e-1 are all "1", and the
    /// serializer's "1E-05" and jsonb's "0.00001" agree.
    /// </summary>
    public static string Number(string literal)
    {
        var s = literal.AsSpan();
        var negative = s.Length > 0 && s[0] == '-';
        if (negative) s = s[1..];
        var expAt = s.IndexOfAny('e', 'E');
        long exponent = 0;
        if (expAt >= 0)
        {
            if (!long.TryParse(s[(expAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 100_000)
                throw new FormatException($"number {literal}: exponent out of range");
            s = s[..expAt];
        }
        var dot = s.IndexOf('.');
        var digits = new StringBuilder();
        if (dot >= 0)
        {
            digits.Append(s[..dot]).Append(s[(dot + 1)..]);
            exponent -= s.Length - dot - 1;
        }
        else
        {
            digits.Append(s);
        }
        var d = digits.ToString();
        foreach (var c in d)
            if (c is < '0' or > '9') throw new FormatException($"'{literal}' is not a JSON number");
        d = d.TrimStart('0');
        if (d.Length == 0) return "0";
        var trimmed = d.TrimEnd('0');
        exponent += d.Length - trimmed.Length;
        var sign = negative ? "-" : "";
        return exponent >= 0
            ? sign + trimmed + new string('0', checked((int)exponent))
            : sign + trimmed + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }
}
