using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using ReBench.ServiceDefaults;

namespace ReBench.Testing;

/// <summary>
/// A platform service hosted in the test process on a loopback port, set up as its Program.cs does: service
/// defaults, then the service's own registrations (<c>add</c>) and endpoints (<c>map</c>), with the test's settings
/// and the shared test platform key. "gateway" gets the gateway's defaults (no service token check on its listeners).
/// </summary>
public static class LoopbackService
{
    public static async Task<WebApplication> StartAsync(string name, int port, IEnumerable<KeyValuePair<string, string?>> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map) =>
        await StartAsync(name, port, settings, add, map, serviceTokenCheck: true);

    /// <param name="serviceTokenCheck">
    /// False only for a benchmark's reference figure (the same host without the check, measured beside it in one
    /// run): a backend built so is not what any Program.cs builds, and no setting makes one.
    /// </param>
    public static async Task<WebApplication> StartAsync(string name, int port, IEnumerable<KeyValuePair<string, string?>> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map, bool serviceTokenCheck)
    {
        var builder = WebApplication.CreateBuilder();
        // The shared test platform key first, so a test's own settings may replace it.
        builder.Configuration.AddInMemoryCollection([TestPlatformKey.Setting]);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration["Service:Port"] = port.ToString();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (name == "gateway" || !serviceTokenCheck) builder.AddEdgeDefaults(name, port);
        else builder.AddServiceDefaults(name, port);
        add(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        map(app);
        await app.StartAsync();
        return app;
    }
}
