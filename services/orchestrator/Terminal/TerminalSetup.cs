namespace ReBench.Orchestrator.Terminal;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class TerminalSetup
{
    public static IServiceCollection AddTerminal(this IServiceCollection services)
    {
        services.AddStoredEvents(TerminalRecording.EventTypes);
        services.AddSingleton<HumanTerminal>();
        services.AddSingleton<HumanSteps>();
        services.AddSingleton<TerminalSessions>();
        services.AddSingleton<Supervision.IAttemptRecorders>(sp => sp.GetRequiredService<TerminalSessions>());
        return services;
    }
}
