using Marten;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// Registers this folder's stored event types and services. Each feature folder registers its own, so that no
/// folder lists another's (which made them import each other); reads never meet an unknown type name because every
/// folder is registered before the store is built.
/// </summary>
public static class CampaignsSetup
{
    public static readonly Type[] EventTypes = [typeof(CampaignCreated), typeof(CampaignAttemptFinished), typeof(CampaignCompleted)];

    public static IServiceCollection AddCampaigns(this IServiceCollection services)
    {
        services.ConfigureMarten(o =>
        {
            o.Events.AddEventTypes(EventTypes);
            o.Schema.For<CampaignView>();
        });
        services.AddSingleton<CampaignSealer>();
        services.AddSingleton<CampaignStore>();
        services.AddSingleton<CampaignCreation>();
        services.AddSingleton<AttemptReexecution>();
        services.AddSingleton<CampaignReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<CampaignReconciler>());
        return services;
    }
}
