using Marten;

namespace ReBench.Orchestrator.Access;

/// <summary>
/// Registers this folder's stored event types and services. Each feature folder registers its own, so that no
/// folder lists another's (which made them import each other); reads never meet an unknown type name because every
/// folder is registered before the store is built.
/// </summary>
public static class AccessSetup
{
    public static readonly Type[] EventTypes = [typeof(TranscriptAccessed)];

    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.ConfigureMarten(o => o.Events.AddEventTypes(EventTypes));
        services.AddSingleton<AccessLog>();
        services.AddSingleton<AccessTargets>();
        return services;
    }
}
