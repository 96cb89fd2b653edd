namespace ReBench.Orchestrator.Access;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class AccessSetup
{
    public static readonly Type[] EventTypes = [typeof(TranscriptAccessed)];

    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes);
        services.AddSingleton<AccessLog>();
        services.AddSingleton<AccessTargets>();
        return services;
    }
}
