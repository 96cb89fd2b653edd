using Microsoft.AspNetCore.Builder;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Every service's entry point: the platform's defaults, the service's own registrations and endpoints, then run.
/// One method, so each Program.cs names only what differs (its name, default port, and its Add/Map pair) and a
/// step added to startup reaches every service at once.
/// </summary>
public static class ServiceHost
{
    /// <param name="edge">The gateway: <see cref="ServiceDefaultsExtensions.AddEdgeDefaults"/> (callers authenticated
    /// by API key, no service token check) instead of <see cref="ServiceDefaultsExtensions.AddServiceDefaults"/>.</param>
    public static void Run(string[] args, string serviceName, int defaultPort, Action<WebApplicationBuilder> addService,
        Action<WebApplication> mapService, bool edge = false)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (edge)
            builder.AddEdgeDefaults(serviceName, defaultPort);
        else
            builder.AddServiceDefaults(serviceName, defaultPort);
        addService(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        mapService(app);
        app.Run();
    }
}
