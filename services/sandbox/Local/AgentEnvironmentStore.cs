using System.Text;
using System.Text.Json;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local;

/// <summary>
/// The task variables an environment's agent commands get (SetAgentEnvironment): kept in <c>agent-env.json</c> beside
/// home/ (root's, 0600, outside everything the agent can see), so they survive a service restart like the rest of the
/// environment's state. Values are secrets: they never go into a log line or an error message.
/// </summary>
internal sealed partial class LocalEnvironmentDriver
{
    private const string AgentEnvFileName = "agent-env.json";

    public async Task SetAgentEnvironmentAsync(string environmentId, IReadOnlyDictionary<string, string> env, string? file, CancellationToken ct)
    {
        var environment = Live(environmentId);
        foreach (var (key, value) in env)
        {
            CheckVariable(key, value);
            // One NAME=VALUE per line in the file, as the tasks' readers (dotenv style) expect.
            if (file is not null && (value.Contains('\n') || value.Contains('\r')))
                throw SandboxException.Invalid($"env variable '{key}' has a line break in its value, which the file '{SandboxNames.Printable(file)}' cannot hold");
        }
        if (file is not null && (file.Length == 0 || file is "." or ".." || file.Contains('/') || file.Contains('\0')))
            throw SandboxException.Invalid($"file '{SandboxNames.Printable(file)}' must be a plain file name in the home");
        var copy = env.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var path = Path.Combine(environment.Directory, AgentEnvFileName);
        var temporary = path + ".tmp";
        await using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            await JsonSerializer.SerializeAsync(stream, copy, cancellationToken: ct);
        }
        File.Move(temporary, path, overwrite: true);
        environment.AgentEnv = copy;
        if (file is not null)
        {
            var lines = string.Concat(copy.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}\n"));
            await _files.WriteAsync(environment, file, Encoding.UTF8.GetBytes(lines), executable: false, _isolation.OwnAsAgent, ct, secret: true);
        }
        _logger.LogInformation("Environment {EnvironmentId}: the agent's commands get {Count} task variables ({Names}){File}",
            environmentId, copy.Count, string.Join(", ", copy.Keys.Order(StringComparer.Ordinal)), file is null ? "" : $", also in ~/{file}");
    }

    /// <summary>What an agent command of the environment gets; read from disk once after a restart.</summary>
    private static IReadOnlyDictionary<string, string> AgentEnvOf(LocalEnvironment environment)
    {
        if (environment.AgentEnv is { } known) return known;
        var path = Path.Combine(environment.Directory, AgentEnvFileName);
        IReadOnlyDictionary<string, string> loaded = File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllBytes(path)) ?? []
            : new Dictionary<string, string>();
        environment.AgentEnv = loaded;
        return loaded;
    }
}
