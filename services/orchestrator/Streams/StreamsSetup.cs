namespace ReBench.Orchestrator.Streams;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class StreamsSetup
{
    /// <summary>The seals, appended to attempt and campaign streams in the transaction of their last event.</summary>
    public static readonly Type[] EventTypes = [typeof(AttemptSealed), typeof(CampaignSealed)];

    public static IServiceCollection AddStreams(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes, o =>
        {
            // Audit (docs/audit.md): each event's chain link is an event header; the seal is an event of its own.
            // Marten's history-rewriting features (masking, archiving) stay off.
            o.Events.MetadataConfig.HeadersEnabled = true;
        });
        services.AddSingleton<PlatformKey>();
        services.AddSingleton<AuditChain>();
        services.AddSingleton<StoredRows>();
        services.AddSingleton<StreamStore>();
        return services;
    }
}
