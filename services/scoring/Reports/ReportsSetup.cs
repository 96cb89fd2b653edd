using JasperFx;
using Marten;
using MassTransit;
using ReBench.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Reports;

/// <summary>
/// The results store and its feed: Marten on ConnectionStrings:Postgres (schema Scoring:Schema, default "scoring")
/// and a MassTransit consumer of AttemptFinished (RabbitMQ at RabbitMq:Host/Port, queue prefix RabbitMq:QueuePrefix,
/// default "scoring"; an in-process bus without a host). Without a connection string neither is registered and the
/// Reports API answers FAILED_PRECONDITION, so the scoring service still runs where it only scores.
/// </summary>
public static class ReportsSetup
{
    public static IServiceCollection AddReports(this IServiceCollection services, IConfiguration config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<HumanBaselinesApi>();
        // Report inputs are checked against the orchestrator's sealed record on request (ReportFilter.verify).
        services.AddServiceClient<Orchestrator.V1.SealedRecord.SealedRecordClient>("Orchestrator");
        services.TryAddSingleton<ISealedRecord, OrchestratorSealedRecord>();
        var connectionString = config.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            services.AddSingleton<IResultsStore, UnconfiguredResultsStore>();
            services.AddSingleton<IHumanBaselineStore, UnconfiguredHumanBaselineStore>();
            return services;
        }

        // Checked (a PostgreSQL identifier) by ScoringOptions at start, before Marten touches the database.
        var schema = (config.GetSection(ScoringOptions.Section).Get<ScoringOptions>() ?? new()).Schema;
        services.AddMarten(o =>
            {
                o.Connection(connectionString);
                o.DatabaseSchemaName = schema;
                o.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                // The attempt is unique too: the same attempt is recorded once whatever event id reports it.
                o.Schema.For<AttemptResult>().UniqueIndex(r => r.AttemptId).Index(r => r.Agent).Index(r => r.CampaignId);
                o.Schema.For<ResultCorrection>().Index(c => c.AttemptId);
                // Registered up front so reading a row's history never meets an unknown event type name.
                o.Events.AddEventTypes(IHumanBaselineStore.EventTypes);
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup();
        // Reads retry a transient failure (a connection a PostgreSQL restart killed) on a cleared pool.
        services.ConfigureMarten((sp, o) => o.ExtendPolly(b => TransientFaults.AddRetry(b,
            () => (sp.GetRequiredService<IDocumentStore>().Storage.Database as Weasel.Postgresql.PostgresqlDatabase)?.DataSource.Clear())));
        services.AddSingleton<IResultsStore, MartenResultsStore>();
        services.AddSingleton<IHumanBaselineStore, MartenHumanBaselineStore>();

        services.AddMassTransit(x =>
        {
            x.AddConsumer<AttemptResultsConsumer>();
            x.AddConsumer<AttemptCorrectedConsumer>();
            x.UsingConfiguredTransport(config, "scoring");
        });
        return services;
    }
}
