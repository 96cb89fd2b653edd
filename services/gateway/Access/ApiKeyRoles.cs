using System.Security.Cryptography;
using System.Text;
using ReBench.ServiceDefaults;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.Gateway.Access;

/// <summary>What a key may do: admin = everything public; auditor = read, verify, export and re-execute only.</summary>
public enum ApiKeyRole { Admin, Auditor }

/// <summary>
/// One configured key. <see cref="Id"/> names the key in forwarded headers and access events without revealing it:
/// configured (Gateway:ApiKeys:N:Id) or the first 12 hex digits of the key's SHA-256.
/// </summary>
public sealed record ApiKeyEntry(string Key, ApiKeyRole Role, string Id)
{
    public static string DefaultId(string key) =>
        "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];

    public static ApiKeyRole ParseRole(string? text, string where) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "admin" => ApiKeyRole.Admin,
        "auditor" => ApiKeyRole.Auditor,
        _ => throw new InvalidOperationException($"{where} '{text}' is not a role: use admin or auditor"),
    };

    public string RoleName => Role.ToString().ToLowerInvariant();

    // A record prints every member, the key included, wherever it is interpolated or logged: this one names the
    // entry by id and role only.
    public override string ToString() => $"ApiKeyEntry {{ Id = {Id}, Role = {RoleName} }}";
}

/// <summary>
/// The auditor's allow-list, by gRPC service, then method. Everything that changes or deletes state (CreateCampaign,
/// CancelAttempt, RecordCorrection, ImportHumanBaselines, ...) is absent, and so is anything added later until
/// someone decides it is a read: an allow-list fails closed. A service not listed (HumanBaselines, whose calls act
/// in an attempt) is refused whole.
/// </summary>
public static class AuditorPolicy
{
    private static readonly Dictionary<string, Func<string, bool>> ByService = new(StringComparer.Ordinal)
    {
        [Orchestrator.V1.Campaigns.Descriptor.FullName] = Only("GetCampaign", "ListCampaigns"),
        [Orchestrator.V1.Attempts.Descriptor.FullName] =
            Only("GetAttempt", "ListAttempts", "WatchAttempt", "ReadAttemptEvents", "ReexecuteAttempt"),
        [Orchestrator.V1.Audit.Descriptor.FullName] = Only(
            "VerifyAttempt", "GetPublicKey", "ExportAttempt", "GetBlob", "VerifyCampaign", "ExportCampaign",
            "ListAccessEvents", "ListCorrections", "ExportCorrections"),
        [Scoring.V1.Scoring.Descriptor.FullName] = Only("ListTasks", "GetTask"),
        [Agents.V1.Agents.Descriptor.FullName] = Only("ListAgents"),
        // Reports are reads except the ones that import or correct data. An allow-list of the exact names, as for the
        // others: a deny-list let `importHumanBaselines` through, since the backend routes names without regard to case.
        [Scoring.V1.Reports.Descriptor.FullName] = Only([.. Scoring.V1.Reports.Descriptor.Methods.Select(m => m.Name)
            .Where(m => m is not ("ImportHumanBaselines" or "CorrectHumanBaseline"))]),
    };

    private static Func<string, bool> Only(params string[] methods)
    {
        var set = methods.ToHashSet(StringComparer.Ordinal);
        return set.Contains;
    }

    public static bool Allows(string path)
    {
        // Reflection only describes the API; health never reaches this check.
        if (path.StartsWith("/grpc.reflection.", StringComparison.Ordinal)) return true;
        var parts = path.Split('/');
        return parts is ["", var service, { Length: > 0 } method]
            && ByService.TryGetValue(service, out var allows) && allows(method);
    }

    /// <summary>The method's short name for the refusal message ("Attempts/CancelAttempt").</summary>
    public static string MethodName(string path)
    {
        var parts = path.TrimStart('/').Split('/', 2);
        var service = parts[0][(parts[0].LastIndexOf('.') + 1)..];
        return parts.Length == 2 ? $"{service}/{parts[1]}" : service;
    }
}

/// <summary>
/// What the gateway tells a backend about the caller: a service token (<see cref="PlatformTokens.Header"/>) it signs
/// with the platform key, naming the API key's id and role (or, on the internal listener, the agent session). Whatever
/// a client sent under that header or the old plain caller headers is removed first, so only the gateway's word
/// reaches a backend, and backends read the caller from the token alone.
/// </summary>
public static class CallerHeaders
{
    public const string SessionPrincipal = "agent-session";
    public const string SessionRole = "session";

    public static void Strip(IHeaderDictionary headers)
    {
        headers.Remove(PlatformTokens.Header);
        headers.Remove(CallerIdentity.PrincipalHeader);
        headers.Remove(CallerIdentity.RoleHeader);
    }

    public static void Sign(IHeaderDictionary headers, PlatformTokenIssuer issuer, string principal, string role) =>
        headers[PlatformTokens.Header] = issuer.TokenFor(principal, role);
}
