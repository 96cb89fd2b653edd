namespace ReBench.Orchestrator.Supervision;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class SupervisionSetup
{
    public static readonly Type[] EventTypes = [typeof(AgentRelaunched), typeof(EnvironmentReclaimed)];

    public static IServiceCollection AddSupervision(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes, o => o.Schema.For<SessionCredentialRecord>());
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
