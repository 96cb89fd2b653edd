using k8s;
using Microsoft.Extensions.Options;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Kubernetes;

public static class KubernetesSetup
{
    public static bool IsSelected(IConfiguration configuration) =>
        string.Equals(configuration["Sandbox:Driver"], "kubernetes", StringComparison.OrdinalIgnoreCase);

    /// <summary>With Sandbox:Driver=kubernetes, replaces the registered driver with <see cref="KubernetesEnvironmentDriver"/>.</summary>
    public static WebApplicationBuilder AddKubernetesDriver(this WebApplicationBuilder builder)
    {
        var driver = builder.Configuration["Sandbox:Driver"];
        if (driver is { Length: > 0 } && !IsSelected(builder.Configuration) && !string.Equals(driver, "local", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Sandbox:Driver '{driver}' is not one of local, kubernetes");
        }
        if (!IsSelected(builder.Configuration)) return builder;
        builder.Services.Configure<KubernetesOptions>(builder.Configuration.GetSection("Sandbox:Kubernetes"));
        builder.Services.AddSingleton<IKubernetes>(sp => new k8s.Kubernetes(ClientConfiguration(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value)));
        foreach (var d in builder.Services.Where(d => d.ServiceType == typeof(IEnvironmentDriver)).ToList()) builder.Services.Remove(d);
        builder.Services.AddSingleton<KubernetesEnvironmentDriver>();
        builder.Services.AddSingleton<IEnvironmentDriver>(sp => sp.GetRequiredService<KubernetesEnvironmentDriver>());
        return builder;
    }

    public static KubernetesClientConfiguration ClientConfiguration(KubernetesOptions o)
    {
        if (o.ApiServer.Length > 0)
        {
            var token = o.Token.Length > 0 ? o.Token : o.TokenFile.Length > 0 ? File.ReadAllText(o.TokenFile).Trim() : null;
            return new KubernetesClientConfiguration { Host = o.ApiServer, AccessToken = token, SkipTlsVerify = o.SkipTlsVerify };
        }
        if (o.Kubeconfig.Length > 0) return KubernetesClientConfiguration.BuildConfigFromConfigFile(o.Kubeconfig, o.Context.Length > 0 ? o.Context : null);
        return KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: o.Context.Length > 0 ? o.Context : null);
    }
}
