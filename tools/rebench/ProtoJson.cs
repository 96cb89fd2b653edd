using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ReBench.Cli;

/// <summary>
/// JSON output of platform messages: every field (zero values too: a score of 0 is a result, not an absence), enums
/// as lower-case names without their type prefix (<c>completed</c>, not <c>ATTEMPT_STATUS_COMPLETED</c>), and event
/// bodies (<c>data_json</c>) nested as JSON objects under <c>data</c> instead of strings.
/// </summary>
public static class ProtoJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Format(IMessage message, bool indented = false) =>
        Node(message).ToJsonString(indented ? Indented : null);

    public static JsonNode Node(IMessage message)
    {
        var node = JsonNode.Parse(Formatter.Format(message))!;
        Rewrite(message.Descriptor, node.AsObject());
        return node;
    }

    private static void Rewrite(MessageDescriptor descriptor, JsonObject obj)
    {
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (!obj.TryGetPropertyValue(field.JsonName, out var value) || value is null) continue;
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var (_, v) in value.AsObject().ToList()) Child(valueField, v);
                continue;
            }
            if (field.FieldType == FieldType.String && field.Name == "data_json" && value.GetValueKind() == JsonValueKind.String)
            {
                obj.Remove(field.JsonName);
                obj["data"] = Parsed(value.GetValue<string>());
                continue;
            }
            if (field.IsRepeated)
            {
                var array = value.AsArray();
                for (var i = 0; i < array.Count; i++)
                {
                    if (field.FieldType == FieldType.Enum && array[i] is { } e) array[i] = EnumName(field.EnumType, e);
                    else Child(field, array[i]);
                }
                continue;
            }
            if (field.FieldType == FieldType.Enum) obj[field.JsonName] = EnumName(field.EnumType, value);
            else Child(field, value);
        }
    }

    private static void Child(FieldDescriptor field, JsonNode? value)
    {
        // Well-known types (Timestamp, Duration, ...) are already strings in JSON; only real messages are objects.
        if (field.FieldType == FieldType.Message && value is JsonObject o) Rewrite(field.MessageType, o);
    }

    private static JsonNode? Parsed(string json)
    {
        try { return JsonNode.Parse(json); }
        catch (JsonException) { return JsonValue.Create(json); } // not JSON: keep the text as it is
    }

    /// <summary>ATTEMPT_STATUS_COMPLETED of enum AttemptStatus becomes completed.</summary>
    public static string EnumName(EnumDescriptor type, JsonNode value)
    {
        var name = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
        var prefix = UpperSnake(type.Name) + "_";
        if (name.StartsWith(prefix, StringComparison.Ordinal)) name = name[prefix.Length..];
        return name.ToLowerInvariant();
    }

    private static string UpperSnake(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && !char.IsUpper(pascal[i - 1])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}
