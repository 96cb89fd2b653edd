namespace ReBench.Orchestrator.Campaigns;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class CampaignsSetup
{
    public static readonly Type[] EventTypes = [typeof(CampaignCreated), typeof(CampaignAttemptFinished), typeof(CampaignCompleted)];

    public static IServiceCollection AddCampaigns(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes, o => o.Schema.For<CampaignView>());
        services.AddSingleton<CampaignSealer>();
        services.AddSingleton<CampaignStore>();
        services.AddSingleton<CampaignCreation>();
        services.AddSingleton<AttemptReexecution>();
        services.AddSingleton<CampaignReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<CampaignReconciler>());
        return services;
    }
}
