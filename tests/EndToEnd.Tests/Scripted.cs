namespace ReBench.EndToEnd.Tests;

/// <summary>Campaigns of the scripted agent (one JSON object per step, as `rebench campaign create --script` takes them).</summary>
internal static class Scripted
{
    public const string Task = "ai_rd_triton_cumsum";
    public const string Variant = "cpu";

    public static string Script(params object[] steps) => string.Join('\n', steps.Select(s => JsonSerializer.Serialize(s)));

    /// <summary>One attempt of the scripted agent on the prefix-sum cpu task.</summary>
    public static CreateCampaignRequest Campaign(string name, TimeSpan budget, params object[] steps) => new()
    {
        Name = name, AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(budget),
        Tasks = { new TaskRef { TaskId = Task, Variant = Variant } },
        Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = Script(steps) } } },
    };
}
