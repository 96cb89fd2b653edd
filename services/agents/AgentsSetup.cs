using ReBench.ServiceDefaults;
using ReBench.Agents.Drivers;
using ReBench.Agents.Drivers.Modular;
using ReBench.Agents.Llm;
using ReBench.Agents.Grpc;
using ReBench.Agents.Runs;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;
using ReBench.Scoring.V1;

namespace ReBench.Agents;

public static class AgentsSetup
{
    public static WebApplicationBuilder AddAgents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AgentsOptions>().Bind(builder.Configuration.GetSection(AgentsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // In production Services:Session is the gateway's internal listener, never the orchestrator directly.
        services.AddServiceClient<AttemptSession.AttemptSessionClient>("Session");
        // The replay driver receives recorded file writes, which may be as large as an Act accepts (64 MiB).
        // Named options of the client AddServiceClient registered under the name "Session".
        services.Configure<global::Grpc.Net.ClientFactory.GrpcClientFactoryOptions>("Session", o =>
        {
            o.ChannelOptionsActions.Add(c => c.MaxReceiveMessageSize = ServiceDefaults.MessageLimits.MaxMessageBytes + 1024);
            // Every AttemptSession call carries its attempt's session credential (x-rebench-session).
            o.InterceptorRegistrations.Add(new global::Grpc.Net.ClientFactory.InterceptorRegistration(
                global::Grpc.Net.ClientFactory.InterceptorScope.Client, sp => sp.GetRequiredService<SessionCredentialInterceptor>()));
        });
        services.AddSingleton<SessionCredentialStore>();
        services.AddSingleton<SessionCredentialInterceptor>();
        services.AddServiceClient<Scoring.V1.Scoring.ScoringClient>("Scoring");

        services.AddSingleton<TransientRetry>();
        services.AddSingleton<IAgentDriver, NoopDriver>();
        services.AddSingleton<IAgentDriver, ReferenceDriver>();
        services.AddSingleton<IAgentDriver, ScriptedDriver>();
        services.AddSingleton<IAgentDriver, Drivers.Replay.ReplayDriver>();
        services.AddSingleton<ProviderCatalog>();
        services.AddSingleton<ProviderReachability>();
        services.AddSingleton<IAgentDriver, ModularDriver>();
        services.AddSingleton<IAgentDriver, Drivers.Aide.AideDriver>();
        services.AddSingleton<DriverCatalog>();
        services.AddSingleton<RunRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<RunRegistry>());
        return builder;
    }

    public static WebApplication MapAgents(this WebApplication app)
    {
        app.MapGrpcService<AgentsGrpcService>();
        return app;
    }
}

/// <summary>A type from this assembly for WebApplicationFactory, which cannot take the static <see cref="AgentsSetup"/>.</summary>
public sealed class AgentsEntryPoint;
