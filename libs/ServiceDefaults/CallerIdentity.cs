using Grpc.Core;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Who made a call: the principal and role inside the service token the backend's check validated (the gateway signs
/// one naming the API key's id and role; a service calling another names itself, service:&lt;name&gt;). Plain request
/// headers are never read: a caller's x-rebench-principal says nothing.
/// </summary>
public static class CallerIdentity
{
    /// <summary>Headers that once carried the caller in plain text; the gateway still strips them from clients.</summary>
    public const string PrincipalHeader = "x-rebench-principal";
    public const string RoleHeader = "x-rebench-role";

    /// <summary>The principal where no token was validated (a host without the backend check): names nobody.</summary>
    public const string DirectPrincipal = "api";

    public static PlatformCaller? Caller(ServerCallContext context) =>
        context.GetHttpContext().Features.Get<PlatformCaller>();

    public static string Principal(ServerCallContext context) => Caller(context)?.Principal ?? DirectPrincipal;

    /// <summary>The validated role; empty (no role's rights) where no token was validated.</summary>
    public static string Role(ServerCallContext context) => Caller(context)?.Role ?? "";
}
