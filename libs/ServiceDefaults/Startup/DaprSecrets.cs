using Dapr;
using Dapr.Client;
using Grpc.Core;
using Microsoft.Extensions.Configuration;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Section "Dapr": where a deployment runs a Dapr sidecar, the keys (the platform key, the audit signing key, the
/// providers' API keys) come from its secret store instead of files. Each entry of <see cref="Secrets"/> names the
/// setting it fills and the secret that holds it, so any key a service reads from configuration can come from Dapr
/// without the code that reads it knowing (a list rather than a map because settings contain ':').
/// </summary>
public sealed class DaprSecretsOptions
{
    public const string Section = "Dapr";

    public bool Enabled { get; set; }

    /// <summary>The sidecar's gRPC endpoint; empty = DAPR_GRPC_ENDPOINT, else http://127.0.0.1:$DAPR_GRPC_PORT (default 50001), as Dapr's SDKs do.</summary>
    public string GrpcEndpoint { get; set; } = "";

    /// <summary>The secret-store component's name (deploy/k8s/overlays/dapr/secretstore.yaml: "rebench-secrets").</summary>
    public string SecretStore { get; set; } = "";

    public List<DaprSecret> Secrets { get; set; } = [];

    /// <summary>How long a sidecar that is not up yet (UNAVAILABLE) is waited for; a sidecar usually starts beside the service.</summary>
    public int StartupTimeoutSeconds { get; set; } = 30;

    public string ResolvedEndpoint() =>
        GrpcEndpoint is { Length: > 0 } e ? e
        : Environment.GetEnvironmentVariable("DAPR_GRPC_ENDPOINT") is { Length: > 0 } env ? env
        : "http://127.0.0.1:" + (Environment.GetEnvironmentVariable("DAPR_GRPC_PORT") is { Length: > 0 } port ? port : "50001");

    /// <summary>The problems of an enabled configuration, each naming its setting; empty when it can be used.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!Enabled) return problems;
        if (string.IsNullOrWhiteSpace(SecretStore)) problems.Add("Dapr:SecretStore is empty (the name of the secret-store component)");
        if (!Uri.TryCreate(ResolvedEndpoint(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            problems.Add("Dapr:GrpcEndpoint is not an http(s) address");
        if (Secrets.Count == 0) problems.Add("Dapr:Secrets lists no secret (entries: Setting, Secret, optional Key)");
        if (StartupTimeoutSeconds is < 1 or > 600) problems.Add("Dapr:StartupTimeoutSeconds must be 1 to 600");
        for (var i = 0; i < Secrets.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Secrets[i].Setting)) problems.Add($"Dapr:Secrets:{i}:Setting is empty");
            if (string.IsNullOrWhiteSpace(Secrets[i].Secret)) problems.Add($"Dapr:Secrets:{i}:Secret is empty");
        }
        return problems;
    }
}

/// <summary>One setting filled from the store: the secret's entry <see cref="Key"/> (default: the secret's only entry, or the entry named as the secret).</summary>
public sealed class DaprSecret
{
    public string Setting { get; set; } = "";
    public string Secret { get; set; } = "";
    public string Key { get; set; } = "";
}

public static class DaprSecrets
{
    /// <summary>
    /// With Dapr:Enabled, reads every listed secret through the sidecar and adds them to the configuration as the
    /// last source (they win over files and the environment). A setting filled so also clears "&lt;setting&gt;File"
    /// (Platform:KeyFile beside Platform:Key, ApiKeyFile beside ApiKey), so a key file left in appsettings cannot
    /// shadow the secret. Any problem throws <see cref="StartupException"/> naming the setting or secret, never a value.
    /// </summary>
    public static async Task LoadAsync(IConfigurationManager configuration, CancellationToken ct)
    {
        var options = configuration.GetSection(DaprSecretsOptions.Section).Get<DaprSecretsOptions>() ?? new();
        if (!options.Enabled) return;
        if (options.Problems() is { Count: > 0 } problems) throw new StartupException("Dapr settings: " + string.Join("; ", problems));

        var endpoint = options.ResolvedEndpoint();
        using var client = new DaprClientBuilder().UseGrpcEndpoint(endpoint).Build();
        var values = new Dictionary<string, string?>();
        var deadline = DateTime.UtcNow.AddSeconds(options.StartupTimeoutSeconds);
        var cache = new Dictionary<string, Dictionary<string, string>>();
        foreach (var entry in options.Secrets)
        {
            if (!cache.TryGetValue(entry.Secret, out var data))
            {
                data = await ReadAsync(client, options.SecretStore, entry, endpoint, deadline, ct);
                cache[entry.Secret] = data;
            }
            var value = entry.Key is { Length: > 0 } key ? data.GetValueOrDefault(key)
                : data.Count == 1 ? data.Values.Single()
                : data.GetValueOrDefault(entry.Secret);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new StartupException(
                    $"Dapr secret '{entry.Secret}'" + (entry.Key is { Length: > 0 } k ? $" has no entry '{k}'" : " has no single entry to use") +
                    $" (for {entry.Setting}, store '{options.SecretStore}')");
            }
            value = value.Trim();
            if (Hostile(value) is { } problem)
                throw new StartupException($"Dapr secret '{entry.Secret}' (for {entry.Setting}, store '{options.SecretStore}') {problem}");
            values[entry.Setting] = value;
            values[entry.Setting + "File"] = "";
        }
        configuration.AddInMemoryCollection(values);
    }

    /// <summary>The most a secret's value may hold: keys and connection strings are far shorter.</summary>
    public const int MaxValueChars = 16 * 1024;

    /// <summary>
    /// Every setting read so is one line (a key, a connection string, a provider's API key that goes into an HTTP
    /// header): a line break or other control character inside, or a value of megabytes, is a store holding the wrong
    /// thing (or a hostile one), refused at the start instead of failing later in a header or a parser. Never quotes it.
    /// </summary>
    private static string? Hostile(string value) =>
        value.Length > MaxValueChars ? $"is {value.Length} characters long; a key or connection string is at most {MaxValueChars}"
        : value.Any(char.IsControl) ? "holds a line break or another control character inside its value; a key or connection string is one line"
        : null;

    private static async Task<Dictionary<string, string>> ReadAsync(DaprClient client, string store, DaprSecret entry, string endpoint,
        DateTime deadline, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await client.GetSecretAsync(store, entry.Secret, cancellationToken: ct);
            }
            catch (DaprException e) when (e.InnerException is RpcException { StatusCode: StatusCode.Unavailable } && DateTime.UtcNow < deadline)
            {
                // The sidecar starts beside the service and may not listen yet.
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
            catch (DaprException e)
            {
                var status = e.InnerException is RpcException rpc ? rpc.StatusCode.ToString() : e.GetType().Name;
                var why = status == nameof(StatusCode.Unavailable) ? $"the Dapr sidecar at {endpoint} did not answer" : $"the store answered {status}";
                throw new StartupException($"Dapr secret '{entry.Secret}' (for {entry.Setting}, store '{store}') could not be read: {why}");
            }
        }
    }
}

/// <summary>The service cannot start: the message says which setting, secret or dependency, and <see cref="ServiceMain"/> exits non-zero with it.</summary>
public sealed class StartupException(string message) : Exception(message);
