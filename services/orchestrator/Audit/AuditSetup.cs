using Marten;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// Registers this folder's stored event types and services. Each feature folder registers its own, so that no
/// folder lists another's (which made them import each other); reads never meet an unknown type name because every
/// folder is registered before the store is built.
/// </summary>
public static class AuditSetup
{
    public static readonly Type[] EventTypes = [typeof(AttemptCorrectionRecorded)];

    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.ConfigureMarten(o => o.Events.AddEventTypes(EventTypes));
        services.AddSingleton<AttemptAuditor>();
        services.AddSingleton<AuditApi>();
        services.AddSingleton<CampaignAuditor>();
        services.AddSingleton<SealedResults>();
        services.AddSingleton<ResultsAuditor>();
        return services;
    }
}
