namespace ReBench.Orchestrator.Session;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class SessionSetup
{
    public static IServiceCollection AddAttemptSession(this IServiceCollection services)
    {
        services.AddSingleton<AttemptSessionHandler>();
        services.AddSingleton<StepHistoryReader>();
        services.AddSingleton<RecordedContent>();
        services.AddSingleton<RecordedActionsReader>();
        return services;
    }
}
