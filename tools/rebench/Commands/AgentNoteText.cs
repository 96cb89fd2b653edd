namespace ReBench.Cli.Commands;

/// <summary>
/// One readable line for an agent_note_recorded event: AIDE's nodes and tree summary in words, any other note as its
/// kind and JSON.
/// </summary>
public static class AgentNoteText
{
    public static string Describe(string kind, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var n = doc.RootElement;
            string S(string name) => n.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "";
            string Num(string name) => n.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetDouble().ToString("G4", CultureInfo.InvariantCulture) : "-";
            return kind switch
            {
                "aide_node" => $"aide node {S("node")} ({S("operation")}{(S("parent") is { Length: > 0 } p ? $" of {p}" : "")}): " +
                               (S("buggy") == "True" ? $"BUGGY {S("buggy_reason")}" : $"normalized={Num("normalized_score")} raw={Num("raw_score")}") +
                               (S("best_so_far") == "True" ? " *best so far*" : "") +
                               (S("plan") is { Length: > 0 } plan ? $"\n      plan: {Clip(plan.ReplaceLineEndings(" "), 200)}" : ""),
                "aide_tree" => $"aide tree: {S("node_count")} nodes ({S("good_count")} good), best node " +
                               $"{(S("best_node") is { Length: > 0 } b ? b : "none")} normalized={Num("best_normalized_score")}: {S("reason")}" +
                               $"\n      stopped: {S("stop_reason")}; restored: {S("restored")}",
                _ => $"{kind}: {json}",
            };
        }
        catch (JsonException)
        {
            return $"{kind}: {json}";
        }
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
