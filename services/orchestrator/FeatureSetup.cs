namespace ReBench.Orchestrator;

/// <summary>
/// What each feature folder's <c>XxxSetup</c> uses to register itself. Each folder registers its own stored event
/// types and services, so that no folder lists another's (which made them import each other); reads never meet an
/// unknown type name because every folder is registered before the store is built (<see cref="OrchestratorSetup"/>).
/// In the root namespace: every folder may use it without importing another folder.
/// </summary>
public static class FeatureSetup
{
    /// <summary>Adds a folder's stored event types to the event store, then what else of the store it configures.</summary>
    public static IServiceCollection AddStoredEvents(this IServiceCollection services, Type[] eventTypes, Action<StoreOptions>? more = null) =>
        services.ConfigureMarten(o =>
        {
            o.Events.AddEventTypes(eventTypes);
            more?.Invoke(o);
        });
}
