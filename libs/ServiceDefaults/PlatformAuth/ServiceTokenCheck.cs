using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReBench.ServiceDefaults.PlatformAuth;

/// <summary>
/// On every backend listener: a call without a valid service token (<see cref="PlatformTokens.Header"/>, signed with
/// the platform key) is refused with UNAUTHENTICATED before it reaches any service; a valid one's principal and role
/// become the call's <see cref="PlatformCaller"/>, which <see cref="CallerIdentity"/> reads. Only grpc.health passes
/// without one (orchestration probes learn nothing from it). Reflection needs a token: it maps the backend's API for
/// whoever asks, which only platform parts need.
/// </summary>
public sealed class ServiceTokenCheck(RequestDelegate next, PlatformTokenValidator validator, ILogger<ServiceTokenCheck> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/grpc.health.v1.Health"))
        {
            await next(context);
            return;
        }
        var (caller, error) = await validator.ValidateAsync(context.Request.Headers[PlatformTokens.Header].ToString());
        if (caller is null)
        {
            logger.LogInformation("Refused {Path}: {Reason}", context.Request.Path, error);
            await GrpcRefusal.WriteAsync(context, new Status(StatusCode.Unauthenticated, error!));
            return;
        }
        context.Features.Set(caller);
        await next(context);
    }
}

/// <summary>
/// Attaches this service's token (principal service:&lt;name&gt;, role service) to every call of a client that
/// <see cref="ServiceClients.AddServiceClient{TClient}"/> registers. A token already on the request (the gateway's,
/// naming the API key's principal) is left as it is.
/// </summary>
public sealed class ServiceTokenHandler(PlatformTokenIssuer issuer, ServiceIdentity self) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.Contains(PlatformTokens.Header))
            request.Headers.TryAddWithoutValidation(PlatformTokens.Header, issuer.TokenFor(self.Principal, ServiceIdentity.Role));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The name this process calls other services under.</summary>
public sealed record ServiceIdentity(string Name)
{
    public const string Role = "service";
    public string Principal => "service:" + Name;
}
