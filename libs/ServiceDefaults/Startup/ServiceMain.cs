using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Every service's Program.cs: secrets from Dapr where enabled, the defaults, the service's own registrations and
/// endpoints, then run. A start that cannot complete (a missing key or secret, invalid options, an unreachable
/// database or broker) prints one line "&lt;service&gt;: cannot start: &lt;why&gt;" to stderr and exits with
/// <see cref="StartFailed"/> (compose and Kubernetes restart it), instead of an unhandled-exception abort whose reason is buried in a stack trace.
/// </summary>
public static class ServiceMain
{
    public const int StartFailed = 2;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Task<int> RunAsync(string[] args, string service, int defaultPort,
        Action<WebApplicationBuilder> add, Action<WebApplication> map, bool edge = false) =>
        RunAsync(args, service, defaultPort, add, map, edge, ownProcess: Assembly.GetEntryAssembly() == Assembly.GetCallingAssembly());

    /// <param name="ownProcess">
    /// False when something else runs the entry point (WebApplicationFactory in tests): then a failure is that host's
    /// to report, as the exception it waits for, and this process must not print or pick an exit code.
    /// </param>
    private static async Task<int> RunAsync(string[] args, string service, int defaultPort,
        Action<WebApplicationBuilder> add, Action<WebApplication> map, bool edge, bool ownProcess)
    {
        var started = false;
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            // Before anything reads configuration: a connection string or key may come from the store.
            await DaprSecrets.LoadAsync(builder.Configuration, CancellationToken.None);
            if (edge) builder.AddEdgeDefaults(service, defaultPort);
            else builder.AddServiceDefaults(service, defaultPort);
            add(builder);
            // First of all hosted services (Marten puts its schema migration at the front; Kestrel's comes early too):
            // nothing listens or migrates until the database and broker answer, and one that does not ends the start.
            builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DependencyStartupCheck>());
            var app = builder.Build();
            app.Lifetime.ApplicationStarted.Register(() => started = true);
            app.MapDefaultEndpoints();
            map(app);
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (ownProcess)
        {
            // A failure after the start completed (a hosted service that ends the host) is not a start failure.
            if (started)
            {
                await Console.Error.WriteLineAsync($"{service}: stopped: {Reason(e)}");
                return 1;
            }
            await Console.Error.WriteLineAsync($"{service}: cannot start: {Reason(e)}");
            return StartFailed;
        }
    }

    private static string Reason(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Reason(a.InnerExceptions[0]),
        StartupException s => s.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
