using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ReBench.Gateway.Access;
using ReBench.Gateway.Routing;

namespace ReBench.Gateway;

/// <summary>
/// The gateway: YARP forwarding gRPC over h2c to the orchestrator and scoring services. The public listener
/// (Service:Port, opened by AddEdgeDefaults) needs an API key; the internal one (Gateway:InternalPort) carries
/// the AttemptSession API for agent drivers without a key. See <see cref="ListenerAccessMiddleware"/> for the rules.
/// Call after AddEdgeDefaults / MapDefaultEndpoints, which provide tracing (YARP propagates trace context) and the
/// gateway's own health and reflection services.
/// </summary>
public static class GatewaySetup
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var options = GatewayOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(options.Keys.Count > 0 ? new ApiKeyValidator(options.Keys) : new ApiKeyValidator(options.ApiKeys));
        builder.Services.AddSingleton<ApiKeyRateLimiter>();

        builder.WebHost.ConfigureKestrel(k =>
            k.Listen(options.InternalAddress, options.InternalPort, l => l.Protocols = HttpProtocols.Http2));

        builder.Services.AddReverseProxy().LoadFromMemory(GatewayRoutes.Routes(), GatewayRoutes.Clusters(options));
        // Reflection describes what a client can call here: the public services the gateway routes (their descriptors
        // come from the shared protos), not only the gateway's own health and reflection services.
        builder.Services.Replace(ServiceDescriptor.Singleton(_ => new Grpc.Reflection.ReflectionServiceImpl(GatewayRoutes.Described())));
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // Runs after routing (which WebApplication puts first) and before any endpoint, so nothing refused is forwarded.
        app.UseMiddleware<ListenerAccessMiddleware>();
        app.MapReverseProxy();
        return app;
    }
}
