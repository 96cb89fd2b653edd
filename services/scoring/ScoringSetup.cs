using ReBench.Scoring.Catalog;
using ReBench.Scoring.Grpc;
using ReBench.Scoring.Reports;
using ReBench.Scoring.Scorers;
using ReBench.Scoring.Submissions;
using ReBench.Scoring.TaskStandard;
using Microsoft.Extensions.Options;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring;

public static class ScoringSetup
{
    public static WebApplicationBuilder AddScoring(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ScoringOptions>().Bind(builder.Configuration.GetSection(ScoringOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // Read when first resolved, so configuration added after this call (tests, hosts) still counts.
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ScoringOptions>>().Value;
            return TaskCatalog.Load(TaskCatalog.ResolveRoot(o.TasksRoot, AppContext.BaseDirectory), o.LayersRoot is { Length: > 0 } l ? l : null);
        });
        services.AddHealthChecks().AddCheck<TaskCatalogHealthCheck>("task-catalog");
        services.AddServiceClient<Sandbox.V1.Sandbox.SandboxClient>("Sandbox");
        services.AddTransient<ScorerExec>(); // as transient as the gRPC client it holds
        services.AddTransient<Submissions.AgentEnvironment>();
        services.AddTransient<SubmissionScorer>();
        services.AddTransient<TaskStandardBridge>();
        services.AddSingleton<TamperCheck>();       // caches the bundles' expected digests
        services.AddSingleton(sp => new Assets.AssetVerifier( // operator-provided assets, checked before an environment is prepared
            sp.GetRequiredService<TaskCatalog>(), sp.GetRequiredService<IOptions<ScoringOptions>>().Value.AssetsRoot));
        services.AddSingleton<ScoreLogLedger>();    // the rows written to each environment's score log
        services.AddScoreLogRecords(builder.Configuration); // ...stored in PostgreSQL where configured (Submissions/ScoreLogRecords.cs)
        services.AddReports(builder.Configuration); // results store and Reports API (Reports/ReportsSetup.cs)
        return builder;
    }

    public static WebApplication MapScoring(this WebApplication app)
    {
        // Loads the catalog now: a missing tasks root fails the start, and bad bundles are logged before any request.
        var catalog = app.Services.GetRequiredService<TaskCatalog>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ScoringSetup));
        logger.LogInformation("Serving {Count} task(s) from {Root}", catalog.Bundles.Count(), catalog.Root);
        foreach (var problem in catalog.Problems) logger.LogWarning("Refused task bundle: {Problem}", problem.Message);
        app.MapGrpcService<ScoringGrpcService>();
        app.MapGrpcService<ReportsGrpcService>();
        return app;
    }
}

/// <summary>A type from this assembly for WebApplicationFactory, which cannot take the static <see cref="ScoringSetup"/>.</summary>
public sealed class ScoringEntryPoint;
