using System.Text.Json;

namespace ReBench.Agents.Drivers;

public abstract record ScriptAction(int Line);
public sealed record RunAction(int Line, string Command, int TimeoutSeconds) : ScriptAction(Line);
public sealed record WriteAction(int Line, string Path, string Content) : ScriptAction(Line);
public sealed record ScoreAction(int Line) : ScriptAction(Line);
public sealed record SubmitAction(int Line, string Submission) : ScriptAction(Line);

/// <summary>
/// A scripted agent's actions, JSON Lines, one action per line: {"run": "cmd", "timeout": 10},
/// {"write": "path", "content": "text"}, {"score": true}, {"submit": "text"}. Blank lines are skipped.
/// </summary>
public static class AgentScript
{
    /// <summary>Parses the whole script; a bad line throws a <see cref="FormatException"/> naming its line number.</summary>
    public static IReadOnlyList<ScriptAction> Parse(string script)
    {
        var actions = new List<ScriptAction>();
        var lines = script.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (actions.LastOrDefault() is SubmitAction submit)
                throw Bad(i + 1, $"nothing may follow the submit on line {submit.Line}");
            actions.Add(ParseLine(i + 1, line));
        }
        return actions;
    }

    private static ScriptAction ParseLine(int n, string line)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw Bad(n, $"not valid JSON ({e.Message})"); }
        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw Bad(n, "expected a JSON object");
            string[] kinds = ["run", "write", "score", "submit"];
            var present = kinds.Where(k => o.TryGetProperty(k, out _)).ToList();
            if (present.Count != 1) throw Bad(n, "expected exactly one of \"run\", \"write\", \"score\", \"submit\"");
            var kind = present[0];
            string[] allowed = kind switch { "run" => ["run", "timeout"], "write" => ["write", "content"], _ => [kind] };
            foreach (var p in o.EnumerateObject())
            {
                if (!allowed.Contains(p.Name)) throw Bad(n, $"unexpected field \"{p.Name}\" in a \"{kind}\" action");
            }

            return kind switch
            {
                "run" => new RunAction(n, NonEmptyString(n, o, "run"), Timeout(n, o)),
                "write" => new WriteAction(n, NonEmptyString(n, o, "write"), String(n, o, "content")),
                "score" => o.GetProperty("score").ValueKind == JsonValueKind.True ? new ScoreAction(n) : throw Bad(n, "\"score\" must be true"),
                _ => new SubmitAction(n, String(n, o, "submit")),
            };
        }
    }

    private static string String(int n, JsonElement o, string field) =>
        o.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad(n, $"\"{field}\" must be a string");

    private static string NonEmptyString(int n, JsonElement o, string field)
    {
        var s = String(n, o, field);
        return string.IsNullOrWhiteSpace(s) ? throw Bad(n, $"\"{field}\" must not be empty") : s;
    }

    private static int Timeout(int n, JsonElement o)
    {
        if (!o.TryGetProperty("timeout", out var v)) return 0;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var t) && t >= 0
            ? t : throw Bad(n, "\"timeout\" must be a whole number of seconds, 0 or more");
    }

    private static FormatException Bad(int line, string message) => new($"script line {line}: {message}");
}
