using Grpc.Core;
using ReBench.Gateway.Routing;
using ReBench.ServiceDefaults;
using ReBench.ServiceDefaults.PlatformAuth;
using Yarp.ReverseProxy.Model;

namespace ReBench.Gateway.Access;

/// <summary>
/// Decides, before anything is forwarded, whether a call may pass on the listener it arrived on (told apart by
/// local port, since both listeners may share an address):
/// <list type="bullet">
/// <item>public: grpc health without a key (orchestration probes); everything else needs a valid API key, then
/// only public routes and the gateway's reflection service pass; any other path is PERMISSION_DENIED. A key over its
/// rate limit gets RESOURCE_EXHAUSTED.</item>
/// <item>internal: no key; only internal routes (AttemptSession) and grpc health pass; the rest is
/// PERMISSION_DENIED.</item>
/// </list>
/// PERMISSION_DENIED rather than UNIMPLEMENTED: the method exists on the platform, it is this listener that
/// refuses it, and the message says so.
/// </summary>
public sealed class ListenerAccessMiddleware(
    RequestDelegate next, GatewayOptions options, ApiKeyValidator keys, ApiKeyRateLimiter rateLimiter, PlatformTokenIssuer tokens, ILogger<ListenerAccessMiddleware> logger)
{
    public const string MissingKeyMessage = "missing API key: send it in the x-api-key header";
    public const string InvalidKeyMessage = "invalid API key";

    public Task InvokeAsync(HttpContext context)
    {
        var isInternal = context.Connection.LocalPort == options.InternalPort;
        var refusal = isInternal ? CheckInternal(context) : CheckPublic(context);
        if (refusal is not { } status) return next(context);

        logger.LogInformation("Refused {Path} on the {Listener} listener: {Status} {Message}",
            context.Request.Path, isInternal ? "internal" : "public", status.StatusCode, status.Detail);
        return GrpcRefusal.WriteAsync(context, status);
    }

    private Status? CheckPublic(HttpContext context)
    {
        var path = context.Request.Path;
        CallerHeaders.Strip(context.Request.Headers);
        if (IsHealth(path)) return null;

        var presented = ApiKeyValidator.Presented(context.Request.Headers);
        if (presented is null) return new Status(StatusCode.Unauthenticated, MissingKeyMessage);
        if (keys.Match(presented) is not { } caller) return new Status(StatusCode.Unauthenticated, InvalidKeyMessage);
        if (!rateLimiter.TryAcquire(presented))
            return new Status(StatusCode.ResourceExhausted,
                $"rate limit exceeded: at most {options.RateLimitPermitsPerSecond} calls per second per API key (burst {options.RateLimitBurst})");

        if (RouteListener(context) != Listener.Public && !IsReflection(path))
            return new Status(StatusCode.PermissionDenied,
                $"{path} is not exposed publicly: the gateway serves only the orchestrator's public services (Campaigns, Attempts, Audit, HumanBaselines), Reports, and Scoring ListTasks/GetTask");
        if (caller.Role == ApiKeyRole.Auditor && !AuditorPolicy.Allows(path))
            return new Status(StatusCode.PermissionDenied,
                $"role {caller.RoleName} may not call {AuditorPolicy.MethodName(path)}: auditors can read, verify, export and re-execute, never change or delete");
        // Backends learn who called from this token only; a client's own was dropped above, before anything else.
        CallerHeaders.Sign(context.Request.Headers, tokens, caller.Id, caller.RoleName);
        return null;
    }

    private Status? CheckInternal(HttpContext context)
    {
        CallerHeaders.Strip(context.Request.Headers);
        var path = context.Request.Path;
        if (IsHealth(path)) return null;
        if (RouteListener(context) == Listener.Internal)
        {
            // The per-attempt session credential is checked by the orchestrator's AttemptSession; this token only says
            // the call came in through the gateway's internal listener.
            CallerHeaders.Sign(context.Request.Headers, tokens, CallerHeaders.SessionPrincipal, CallerHeaders.SessionRole);
            return null;
        }
        return new Status(StatusCode.PermissionDenied,
            $"{path} is not exposed on the gateway's internal listener: it serves only the AttemptSession API");
    }

    private static Listener? RouteListener(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        return route?.Config.Metadata?.TryGetValue(GatewayRoutes.ListenerMetadataKey, out var value) == true
            && Enum.TryParse<Listener>(value, out var listener)
            ? listener
            : null;
    }

    private static bool IsHealth(PathString path) => path.StartsWithSegments("/grpc.health.v1.Health");

    private static bool IsReflection(PathString path) =>
        path.StartsWithSegments("/grpc.reflection.v1.ServerReflection")
        || path.StartsWithSegments("/grpc.reflection.v1alpha.ServerReflection");
}
