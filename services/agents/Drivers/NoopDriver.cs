namespace ReBench.Agents.Drivers;

/// <summary>Scores the starting solution and submits it: the baseline every task should normalize to 0.</summary>
public sealed class NoopDriver : IAgentDriver
{
    public string Name => "noop";
    public string Description => "Scores the starting solution once, then submits it unchanged.";
    public IReadOnlyList<string> RequiredSettings => [];

    public async Task RunAsync(AgentRunContext context, CancellationToken ct)
    {
        await context.Session.ScoreAsync(ct);
        await context.Session.SubmitAsync("", ct);
    }
}
