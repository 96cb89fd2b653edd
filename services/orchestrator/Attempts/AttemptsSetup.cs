namespace ReBench.Orchestrator.Attempts;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class AttemptsSetup
{
    /// <summary>The attempt stream's own events; other folders register what they append to it.</summary>
    public static readonly Type[] EventTypes =
    [
        typeof(AttemptScheduled), typeof(AttemptStarted), typeof(AgentLaunched), typeof(ActionRequested), typeof(ActionCompleted),
        typeof(ScoreRequested), typeof(IntermediateScoreRecorded), typeof(ModelCallCompleted), typeof(SubmissionReceived),
        typeof(BudgetExhausted), typeof(FinalScoreRecorded), typeof(AttemptCompleted), typeof(AttemptFailed), typeof(AttemptCancelled),
        typeof(AttemptPaused), typeof(AttemptResumed), typeof(AttemptQueued), typeof(AgentNoteRecorded),
    ];

    public static IServiceCollection AddAttempts(this IServiceCollection services)
    {
        services.AddStoredEvents(EventTypes);
        services.AddSingleton<AttemptLocks>();
        return services;
    }
}
