using Marten;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// Registers this folder's stored event types and services. Each feature folder registers its own, so that no
/// folder lists another's (which made them import each other); reads never meet an unknown type name because every
/// folder is registered before the store is built.
/// </summary>
public static class SupervisionSetup
{
    public static readonly Type[] EventTypes = [typeof(AgentRelaunched), typeof(EnvironmentReclaimed)];

    public static IServiceCollection AddSupervision(this IServiceCollection services)
    {
        services.ConfigureMarten(o =>
        {
            o.Events.AddEventTypes(EventTypes);
            o.Schema.For<SessionCredentialRecord>();
        });
        services.AddSingleton<SessionCredentials>();
        services.AddSingleton<ScoringGateway>();
        services.AddSingleton<AttemptLifecycle>();
        services.AddSingleton<AttemptPlacement>();
        services.AddSingleton<AgentWatch>();
        services.AddSingleton<EnvironmentTeardown>();
        services.AddSingleton<EnvironmentReconciler>();
        services.AddHostedService<AttemptSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<EnvironmentReconciler>());
        return services;
    }
}
