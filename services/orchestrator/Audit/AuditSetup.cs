namespace ReBench.Orchestrator.Audit;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class AuditSetup
{
    public static readonly Type[] EventTypes = [typeof(AttemptCorrectionRecorded)];

    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes);
        services.AddSingleton<AttemptAuditor>();
        services.AddSingleton<AuditApi>();
        services.AddSingleton<CampaignAuditor>();
        services.AddSingleton<SealedResults>();
        services.AddSingleton<ResultsAuditor>();
        return services;
    }
}
