using ReBench.Agents.V1;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;
using ReBench.Scoring.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// Validates a campaign against the task catalog and the agents service, then records the campaign and one
/// scheduled attempt per (task, agent, k) in a single transaction.
/// </summary>
public sealed class CampaignCreation(
    CampaignStore campaigns,
    Scoring.V1.Scoring.ScoringClient scoring,
    Agents.V1.Agents.AgentsClient agents,
    TimeProvider time)
{
    public const int MaxAttemptsPerPair = 100;
    public static readonly TimeSpan MaxBudget = TimeSpan.FromDays(7);

    public async Task<Guid> CreateAsync(CreateCampaignRequest request, string actor, CancellationToken ct)
    {
        if (request.Tasks.Count == 0) throw Guard.Invalid("tasks: at least one task is required");
        if (request.Agents.Count == 0) throw Guard.Invalid("agents: at least one agent is required");
        if (request.AttemptsPerPair < 1) throw Guard.Invalid($"attempts_per_pair (k) must be at least 1, got {request.AttemptsPerPair}");
        if (request.AttemptsPerPair > MaxAttemptsPerPair) throw Guard.Invalid($"attempts_per_pair (k) must be at most {MaxAttemptsPerPair}, got {request.AttemptsPerPair}");
        if (request.TimeBudget is null) throw Guard.Invalid("time_budget is required");
        var budget = Guard.Duration(request.TimeBudget, "time_budget", allowNegative: true)!.Value; // malformed: INVALID_ARGUMENT, not INTERNAL
        if (budget <= TimeSpan.Zero) throw Guard.Invalid($"time_budget must be positive, got {budget}");
        if (budget > MaxBudget) throw Guard.Invalid($"time_budget must be at most {MaxBudget.TotalDays} days, got {budget}");
        if (request.CostCapUsd < 0 || !double.IsFinite(request.CostCapUsd))
            throw Guard.Invalid($"cost_cap_usd must be a finite non-negative number (0 = no cap), got {request.CostCapUsd}");

        var campaignId = string.IsNullOrWhiteSpace(request.RequestId) ? Guid.NewGuid() : IdFromRequest(request.RequestId);
        if (!string.IsNullOrWhiteSpace(request.RequestId) && await campaigns.TryLoadAsync(campaignId, ct) is not null) return campaignId;

        var tasks = new List<CampaignTask>();
        foreach (var t in request.Tasks) tasks.Add(await ResolveTaskAsync(t, ct));
        var agentsList = await ResolveAgentsAsync(request.Agents, ct);

        var now = time.GetUtcNow();
        var scheduled = new List<AttemptScheduled>();
        foreach (var task in tasks)
        foreach (var agent in agentsList)
        for (var i = 0; i < request.AttemptsPerPair; i++)
        {
            // A replay of a recorded attempt is audit work however it was asked for (ReexecuteAttempt, or a campaign
            // naming the replay agent): it measures the record, not an agent, and stays out of research reports.
            scheduled.Add(new AttemptScheduled(Guid.NewGuid(), campaignId, task.TaskId, task.Variant, agent.Name,
                agent.Settings, i, budget, actor, now) { AuditWork = agent.Name == ReexecutionRules.ReplayAgent });
        }
        var name = string.IsNullOrWhiteSpace(request.Name) ? $"campaign {now:yyyy-MM-dd HH:mm:ss}" : request.Name;
        var created = new CampaignCreated(campaignId, name, tasks, agentsList, request.AttemptsPerPair, budget,
            scheduled.Select(a => a.AttemptId).ToList(), NullIfEmpty(request.RequestId), actor, now)
        {
            CostCapUsd = request.CostCapUsd > 0 ? request.CostCapUsd : null,
            AuditWork = agentsList.All(a => a.Name == ReexecutionRules.ReplayAgent),
        };
        await campaigns.CreateAsync(created, scheduled, ct);
        return campaignId;
    }

    private async Task<CampaignTask> ResolveTaskAsync(TaskRef t, CancellationToken ct)
    {
        Guard.Required(t.TaskId, "tasks[].task_id");
        var task = await scoring.GetTaskAsync(new GetTaskRequest { TaskId = t.TaskId, Variant = t.Variant }, cancellationToken: ct);
        return new CampaignTask(task.TaskId, task.Variant);
    }

    /// <summary>
    /// Every agent spec is checked by the agents service as a run start would check it (ValidateAgent: the driver,
    /// its settings, a script's syntax, the LLM provider and whether its endpoint accepts a connection), so a campaign
    /// that would fail every attempt at its start is refused before anything is written.
    /// </summary>
    private async Task<List<CampaignAgent>> ResolveAgentsAsync(IList<AgentSpec> specs, CancellationToken ct)
    {
        var result = new List<CampaignAgent>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            Guard.Required(spec.Name, "agents[].name");
            // A human baseline: a person drives the attempt (Terminal/), no driver of the agents service.
            if (spec.Name != Supervision.AttemptSupervisor.HumanAgent) await ValidateAgentAsync(i, spec, ct);
            result.Add(new CampaignAgent(spec.Name, new Dictionary<string, string>(spec.Settings)));
        }
        return result;
    }

    private async Task ValidateAgentAsync(int index, AgentSpec spec, CancellationToken ct)
    {
        var what = $"agents[{index}] ('{Clip(spec.Name, 60)}')";
        try
        {
            await agents.ValidateAgentAsync(new ValidateAgentRequest { Agent = spec.Name, Settings = { spec.Settings } }, cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            throw new RpcException(new Status(e.StatusCode, $"{what}: {Clip(e.Status.Detail, MaxQuoted)}"));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            await CheckListedAsync(spec, ct); // an agents service older than ValidateAgent
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"{what}: the agents service could not check the agent ({e.StatusCode}); nothing was created"));
        }
    }

    private async Task CheckListedAsync(AgentSpec spec, CancellationToken ct)
    {
        var known = (await agents.ListAgentsAsync(new ListAgentsRequest(), cancellationToken: ct)).Agents.ToDictionary(a => a.Name);
        if (!known.TryGetValue(spec.Name, out var info))
            throw Guard.NotFound($"unknown agent '{Clip(spec.Name, 60)}'; known agents: {string.Join(", ", known.Keys.Order())}");
        var missing = info.RequiredSettings.Where(s => !spec.Settings.ContainsKey(s)).ToList();
        if (missing.Count > 0)
            throw Guard.Invalid($"agent '{spec.Name}' needs setting(s): {string.Join(", ", missing)}");
    }

    /// <summary>Most characters of the agents service's answer quoted in a refusal (it may quote a setting's value).</summary>
    public const int MaxQuoted = 200;

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    /// <summary>A retried CreateCampaign with the same request id lands on the same campaign stream.</summary>
    private static Guid IdFromRequest(string requestId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes("rebench-campaign:" + requestId)).AsSpan(0, 16));

    private static string? NullIfEmpty(string s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
