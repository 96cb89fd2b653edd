using Grpc.Net.ClientFactory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.ServiceDefaults;

/// <summary>The one way a service registers a gRPC client of another: its address from Services:{name}.</summary>
public static class ServiceClients
{
    /// <summary>
    /// Registers <typeparamref name="TClient"/> under <paramref name="name"/>. The address is read when the client is
    /// first created, so configuration added after this call (tests, hosts) still applies. With
    /// <paramref name="singleton"/>, one client is kept for the process (typed gRPC clients are transient; long-lived
    /// singletons need one that lives as long as they do). Every call carries this service's token
    /// (<see cref="ServiceTokenHandler"/>): backends refuse calls without one.
    /// </summary>
    public static IServiceCollection AddServiceClient<TClient>(this IServiceCollection services, string name, bool singleton = false)
        where TClient : class
    {
        services.AddGrpcClient<TClient>(name, (sp, o) =>
        {
            var address = sp.GetRequiredService<IConfiguration>()[$"Services:{name}"]
                ?? throw new InvalidOperationException($"Services:{name} is not configured");
            o.Address = new Uri(address);
        }).AddHttpMessageHandler<ServiceTokenHandler>();
        if (singleton) services.AddSingleton(sp => sp.GetRequiredService<GrpcClientFactory>().CreateClient<TClient>(name));
        return services;
    }
}
