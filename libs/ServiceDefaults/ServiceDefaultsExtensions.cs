using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Activity source names every service traces besides ASP.NET Core and HttpClient.</summary>
    /// <summary>The gRPC health service name of the liveness probe (only the "self" check).</summary>
    public const string LivenessService = "live";

    public static readonly string[] TracedSources = ["ReBench.*", "MassTransit", "Marten", "Yarp.ReverseProxy", "Grpc.Net.Client"];

    /// <summary>
    /// A backend service: Kestrel on one HTTP/2-only endpoint (h2c: plain-text gRPC needs Http2 alone, see README),
    /// gRPC with reflection, health checks and the error interceptor, OpenTelemetry tracing and metrics, the platform
    /// key, and the service token check on every call (<see cref="ServiceTokenCheck"/>, added by
    /// <see cref="MapDefaultEndpoints"/>).
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName, int defaultPort)
    {
        builder.AddCommon(serviceName, defaultPort);
        builder.Services.AddSingleton<PlatformTokenValidator>();
        builder.Services.AddSingleton<BackendListener>();
        return builder;
    }

    /// <summary>
    /// The gateway: as <see cref="AddServiceDefaults"/>, and it signs tokens with the platform key, but its listeners
    /// authenticate callers by API key and listener themselves, so no service token check runs on them.
    /// </summary>
    public static WebApplicationBuilder AddEdgeDefaults(this WebApplicationBuilder builder, string serviceName, int defaultPort) =>
        builder.AddCommon(serviceName, defaultPort);

    private static WebApplicationBuilder AddCommon(this WebApplicationBuilder builder, string serviceName, int defaultPort)
    {
        var address = IPAddress.Parse(builder.Configuration["Service:Address"] ?? "127.0.0.1");
        var port = builder.Configuration.GetValue("Service:Port", defaultPort);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, port, l => l.Protocols = HttpProtocols.Http2);
            // Above the gRPC limit, so a request of a valid size is never cut by Kestrel (its default is 30 MB) and
            // an oversize one is refused by gRPC, with a status naming the limit.
            k.Limits.MaxRequestBodySize = MessageLimits.MaxRequestBodyBytes;
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.MaxReceiveMessageSize = MessageLimits.MaxMessageBytes;
        });
        builder.Services.AddGrpcReflection();
        // Readiness is the "" service (every check, the dependencies among them); liveness is the "live" service (the
        // process answers), so a database outage takes pods out of rotation without restarting them (deploy/k8s).
        builder.Services.AddGrpcHealthChecks(o => o.Services.Map(LivenessService, c => c.Tags.Contains(LivenessService)))
            .AddCheck("self", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy(), tags: [LivenessService])
            .AddCheck<DependencyHealthCheck>("dependencies");

        // Read when first needed (configuration added after this call still applies); MapDefaultEndpoints resolves it,
        // so a process without a key stops at start with the reason rather than refusing every call later.
        builder.Services.AddSingleton(sp => PlatformKeys.From(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<PlatformTokenIssuer>();
        builder.Services.AddSingleton(new ServiceIdentity(serviceName));
        builder.Services.AddTransient<ServiceTokenHandler>();

        builder.AddTelemetry(serviceName);
        return builder;
    }

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource(TracedSources))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("ReBench.*"));
        // Export only where a collector is configured; a dead endpoint is silent but costs work.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(t => t.AddOtlpExporter()).WithMetrics(m => m.AddOtlpExporter());
        }
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.Services.GetRequiredService<PlatformKeys>();
        app.UseMiddleware<CanonicalMethodPath>();
        if (app.Services.GetService<BackendListener>() is not null) app.UseMiddleware<ServiceTokenCheck>();
        // grpc-dotnet refuses an oversize message before any interceptor runs, with a text that names no limit; its
        // answer is trailers-only (status in the response headers, not yet sent), so name the limit there.
        app.Use(async (context, next) =>
        {
            await next(context);
            if (!context.Response.HasStarted
                && context.Response.Headers["grpc-status"] == "8"
                && context.Response.Headers["grpc-message"].ToString().StartsWith(MessageLimits.GrpcTooLarge, StringComparison.Ordinal))
            {
                context.Response.Headers["grpc-message"] = MessageLimits.TooLarge;
            }
        });
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }
}

/// <summary>Marks a host whose listener needs service tokens (every backend; not the gateway).</summary>
internal sealed class BackendListener;
