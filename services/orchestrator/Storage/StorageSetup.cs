namespace ReBench.Orchestrator.Storage;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class StorageSetup
{
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.ConfigureMarten(o => o.Schema.For<AttemptView>().Index(a => a.CampaignId).Index(a => a.Phase));
        services.AddSingleton<AttemptStore>();
        services.AddSingleton<AttemptEventReader>();
        return services;
    }
}
