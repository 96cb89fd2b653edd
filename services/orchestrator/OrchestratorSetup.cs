using JasperFx.Events.Daemon;
using MassTransit;
using ReBench.Contracts;
using ReBench.Orchestrator.Access;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Audit;
using ReBench.Orchestrator.Blobs;
using ReBench.Orchestrator.Budgets;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Grpc;
using ReBench.Orchestrator.Publishing;
using ReBench.Orchestrator.Session;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.Supervision;
using ReBench.ServiceDefaults;
using ReBench.Orchestrator.Terminal;

namespace ReBench.Orchestrator;

public static class OrchestratorSetup
{
    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var services = builder.Services;
        services.AddGrpc(o => { o.Interceptors.Add<DomainRejectionInterceptor>(); o.Interceptors.Add<Access.AccessLogInterceptor>(); });

        var connectionString = config.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured");
        // Validated when the host starts, before any hosted service (the schema migration among them) runs.
        services.AddOptions<OrchestratorOptions>().Bind(config.GetSection(OrchestratorOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var schema = (config.GetSection(OrchestratorOptions.Section).Get<OrchestratorOptions>() ?? new()).Schema;
        services.AddMarten(o =>
            {
                o.Connection(connectionString);
                o.DatabaseSchemaName = schema;
                o.Events.DatabaseSchemaName = schema;
                o.Events.StreamIdentity = StreamIdentity.AsGuid;
                o.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                // Each feature folder adds its own event types, documents and tables (the Add* calls below).
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            // Solo: one orchestrator per database; the shimmed DistributedLock cannot take HotCold's leader lock.
            .AddAsyncDaemon(DaemonMode.Solo)
            // Two readers of the committed log: campaigns learn of attempt ends in-process, other services on the bus.
            .AddSubscriptionWithServices<CampaignProgress>(ServiceLifetime.Singleton)
            .AddSubscriptionWithServices<IntegrationEventForwarder>(ServiceLifetime.Singleton)
            .AddSubscriptionWithServices<CorrectionsForwarder>(ServiceLifetime.Singleton);

        // Reads retry a transient failure (a connection a PostgreSQL restart killed) on a cleared pool; appends retry in StreamStore.
        services.ConfigureMarten((sp, o) => o.ExtendPolly(b => TransientFaults.AddRetry(b, () => sp.GetRequiredService<Streams.StreamStore>().ClearPool())));

        // Publish only: the orchestrator consumes none of its own integration events (CampaignProgress reads its log).
        services.AddMassTransit(x => x.UsingConfiguredTransport(config, "orchestrator"));

        // Singletons: the lifecycle singletons hold them.
        services.AddServiceClient<Sandbox.V1.Sandbox.SandboxClient>("Sandbox", singleton: true);
        services.AddServiceClient<Scoring.V1.Scoring.ScoringClient>("Scoring", singleton: true);
        services.AddServiceClient<Agents.V1.Agents.AgentsClient>("Agents", singleton: true);

        services.AddStreams().AddBlobs().AddAttempts().AddStorage().AddCampaigns().AddAudit().AddAccess()
            .AddSupervision().AddAttemptSession().AddTerminal().AddBudgets()
            .AddPublicApi();
        return builder;
    }

    public static WebApplication MapOrchestrator(this WebApplication app)
    {
        app.MapPublicApi();
        app.MapGrpcService<AttemptSessionGrpc>();
        // Platform-only (the gateway routes none of it): the scoring service checks report inputs against it.
        app.MapGrpcService<SealedRecordGrpc>();
        return app;
    }
}

/// <summary>A type of the orchestrator's entry assembly, for WebApplicationFactory in tests.</summary>
public sealed class OrchestratorEntryPoint;
