using ReBench.Orchestrator.Audit;

namespace ReBench.Orchestrator.Grpc;

/// <summary>The public API's services (one per concern) and what their adapters need beyond the features' own registrations.</summary>
public static class PublicApi
{
    public static IServiceCollection AddPublicApi(this IServiceCollection services)
    {
        // Stateless over singletons (store, chain, auditor, clock): one instance serves every call.
        services.AddSingleton<AttemptCorrections>();
        services.AddSingleton<ISessionGate, SessionGate>();
        return services;
    }

    public static WebApplication MapPublicApi(this WebApplication app)
    {
        app.MapGrpcService<CampaignsGrpc>();
        app.MapGrpcService<AttemptsGrpc>();
        app.MapGrpcService<AuditGrpc>();
        app.MapGrpcService<HumanBaselinesGrpc>();
        return app;
    }
}
