using System.Globalization;
using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// Completes attempt_started with what an auditor needs to judge comparability (issue 7, Provenance): variant, agent
/// scaffold and version, model and generation settings from the agent's settings (secrets never, a script by
/// digest), the environment's GPUs and the budgets.
/// </summary>
public static class AttemptProvenance
{
    /// <summary>Settings whose name says they hold a secret; their values are never stored.</summary>
    private static readonly string[] SecretMarkers = ["key", "secret", "token", "password", "credential", "auth"];
    /// <summary>Large opaque settings recorded by digest rather than inline.</summary>
    private static readonly HashSet<string> DigestedSettings = ["script"];
    private static readonly string[] ModelSettings = ["model", "model_id"];
    private static readonly string[] VersionSettings = ["agent_version", "scaffold_version", "version"];
    private static readonly string[] TokenBudgetSettings = ["token_budget", "max_total_tokens"];
    private static readonly string[] CostBudgetSettings = ["cost_budget_usd", "max_cost_usd"];

    /// <param name="agentVariables">The task variables' names the agent's environment got (never their values).</param>
    public static object[] Enrich(object[] decided, AttemptState state, Sandbox.V1.Environment environment, string platformVersion,
        IReadOnlyCollection<string>? agentVariables = null) =>
        decided.Select(e => e is AttemptStarted started
            ? Enrich(started, state, environment, platformVersion) with
            {
                AgentEnvironmentVariables = agentVariables is { Count: > 0 } ? [.. agentVariables] : null,
            }
            : e).ToArray();

    public static AttemptStarted Enrich(AttemptStarted started, AttemptState state, Sandbox.V1.Environment environment, string platformVersion)
    {
        var settings = state.AgentSettings;
        return started with
        {
            Variant = state.Variant,
            Agent = state.Agent,
            // Agent drivers ship inside the platform: unless the settings name a scaffold version, it is the platform's.
            AgentVersion = First(settings, VersionSettings) ?? platformVersion,
            Model = First(settings, ModelSettings) is { } model
                ? settings.TryGetValue("provider", out var provider) && !model.Contains('/') ? $"{provider}/{model}" : model
                : "",
            GenerationSettings = GenerationSettings(settings),
            GpuModel = string.IsNullOrEmpty(environment.GpuModel) ? "none" : environment.GpuModel,
            GpuCount = environment.GpuCount,
            GpuDriverVersion = string.IsNullOrEmpty(environment.GpuDriverVersion) ? "none" : environment.GpuDriverVersion,
            TimeBudgetSeconds = state.TimeBudget.TotalSeconds,
            TokenBudget = First(settings, TokenBudgetSettings) is { } t && long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var tokens) ? tokens : null,
            CostBudgetUsd = First(settings, CostBudgetSettings) is { } c && double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var cost) ? cost : null,
        };
    }

    public static Dictionary<string, string> GenerationSettings(IReadOnlyDictionary<string, string> settings)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in settings)
        {
            if (IsSecret(name)) continue;
            if (DigestedSettings.Contains(name))
                result[name + "_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
            else result[name] = value;
        }
        return result;
    }

    public static bool IsSecret(string name)
    {
        var lower = name.ToLowerInvariant();
        // max_tokens and friends are generation settings, not secrets.
        if (lower.Contains("tokens") || lower.StartsWith("token_budget", StringComparison.Ordinal)) return false;
        return SecretMarkers.Any(lower.Contains);
    }

    private static string? First(IReadOnlyDictionary<string, string> settings, string[] names) =>
        names.Select(n => settings.GetValueOrDefault(n)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
