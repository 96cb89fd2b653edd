using System.Text.Json;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Relay;

/// <summary>
/// One line of JSON from the client: <c>{"command": str, "working_dir": str?, "timeout_seconds": int?, "env": {str: str}?,
/// "stdin_base64": str?, "max_output_bytes": int?}</c>. The Exec it becomes is an agent's (never as_scorer); the
/// driver then checks it as it checks any Exec (NUL bytes, working dir inside the home, reserved variables).
/// </summary>
internal static class AgentExecRequest
{
    public static ExecSpec Parse(string environmentId, string line)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(line);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw SandboxException.Invalid($"the request is not JSON: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw SandboxException.Invalid("the request must be a JSON object");
        var command = String(root, "command") ?? throw SandboxException.Invalid("command is required");
        var timeout = Integer(root, "timeout_seconds");
        if (timeout < 0) throw SandboxException.Invalid($"timeout_seconds {timeout} is negative");
        var env = new Dictionary<string, string>();
        if (root.TryGetProperty("env", out var envJson) && envJson.ValueKind != JsonValueKind.Null)
        {
            if (envJson.ValueKind != JsonValueKind.Object) throw SandboxException.Invalid("env must be an object of strings");
            foreach (var p in envJson.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw SandboxException.Invalid($"env variable '{SandboxNames.Printable(p.Name)}' is not a string");
                env[p.Name] = p.Value.GetString()!;
            }
        }
        byte[] stdin = [];
        if (String(root, "stdin_base64") is { } encoded)
        {
            try { stdin = Convert.FromBase64String(encoded); }
            catch (FormatException) { throw SandboxException.Invalid("stdin_base64 is not base64"); }
        }
        return new ExecSpec(environmentId, command, String(root, "working_dir"),
            timeout > 0 ? TimeSpan.FromSeconds(timeout) : null, env, Integer(root, "max_output_bytes"), AsScorer: false, stdin)
        {
            // Part of a scoring run: its time may be the score, so it gets the scorer's CPU priority (not its rights).
            ScoringPriority = true,
            // Nothing of the judged code may keep running (writing its output) while the scorer checks the result.
            KillGroupOnExit = true,
        };
    }

    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw SandboxException.Invalid($"{name} must be a string");

    private static long Integer(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? 0
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : throw SandboxException.Invalid($"{name} must be an integer");
}
