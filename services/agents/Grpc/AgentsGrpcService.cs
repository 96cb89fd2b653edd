using Grpc.Core;
using Microsoft.Extensions.Options;
using ReBench.Agents.Drivers;
using ReBench.Agents.Llm;
using ReBench.Agents.Runs;
using ReBench.Agents.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Agents.Grpc;

public sealed class AgentsGrpcService(
    DriverCatalog drivers, RunRegistry runs, ProviderReachability reachability, IOptions<AgentsOptions> options,
    Session.SessionCredentialStore credentials) : V1.Agents.AgentsBase
{
    /// <summary>Most characters of a problem returned by ValidateAgent: a problem may quote a setting's value.</summary>
    public const int MaxProblemLength = 300;

    public override Task<ListAgentsResponse> ListAgents(ListAgentsRequest request, ServerCallContext context)
    {
        var response = new ListAgentsResponse();
        response.Agents.AddRange(drivers.All.Select(d => new AgentInfo
        {
            Name = d.Name, Description = d.Description, RequiredSettings = { d.RequiredSettings },
        }));
        return Task.FromResult(response);
    }

    public override Task<Run> StartRun(StartRunRequest request, ServerCallContext context)
    {
        var attemptId = Guard.Id(request.AttemptId, "attempt_id");
        var agent = Guard.Required(request.Agent, "agent");
        Guard.Required(request.TaskId, "task_id");
        var driver = drivers.Find(agent) ?? throw Guard.NotFound($"unknown agent '{Guard.Quote(agent)}'; known: {drivers.KnownNames}");
        var missing = driver.RequiredSettings.Where(s => string.IsNullOrWhiteSpace(request.Settings.GetValueOrDefault(s))).ToList();
        if (missing.Count > 0) throw Guard.Invalid($"agent '{agent}' needs setting(s): {string.Join(", ", missing)}");
        var settings = new Dictionary<string, string>(request.Settings);
        if (driver.ValidateSettings(settings) is { } problem) throw Guard.Invalid(problem);
        var budget = Guard.Duration(request.TimeBudget, "time_budget", allowNegative: true);
        if (budget <= TimeSpan.Zero) throw Guard.Invalid($"time_budget must be positive, got {budget}");
        // Checked for presence and shape only (the orchestrator decides whether it is valid); never quoted back.
        if (string.IsNullOrEmpty(request.SessionCredential))
            throw Guard.Invalid("session_credential is required: the driver cannot call the attempt-session API without it");
        if (request.SessionCredential.Length > 256 || !request.SessionCredential.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw Guard.Invalid("session_credential is malformed: expected URL-safe base64");

        // Set before the run starts, so its first call already carries it; a StartRun for a running attempt (a
        // relaunch after an orchestrator restart) replaces the credential the run uses from its next call on.
        credentials.Set(attemptId, request.SessionCredential);
        var run = runs.StartOrGet(new RunSpec(attemptId, driver, request.TaskId, request.Variant, request.Instructions, budget, settings));
        if (run.Agent != agent)
            throw Guard.FailedPrecondition($"attempt {attemptId} already has a run of agent '{run.Agent}', not '{agent}'");
        return Task.FromResult(ToProto(run));
    }

    /// <summary>The checks StartRun makes, plus the provider's endpoint, without starting anything.</summary>
    public override async Task<ValidateAgentResponse> ValidateAgent(ValidateAgentRequest request, ServerCallContext context)
    {
        var agent = Guard.Required(request.Agent, "agent");
        var driver = drivers.Find(agent) ?? throw Guard.NotFound(Clip($"unknown agent '{agent}'; known: {drivers.KnownNames}"));
        var missing = driver.RequiredSettings.Where(s => string.IsNullOrWhiteSpace(request.Settings.GetValueOrDefault(s))).ToList();
        if (missing.Count > 0) throw Guard.Invalid($"agent '{Clip(agent)}' needs setting(s): {string.Join(", ", missing)}");
        var settings = new Dictionary<string, string>(request.Settings);
        if (driver.ValidateSettings(settings) is { } problem) throw Guard.Invalid(Clip(problem));
        var response = new ValidateAgentResponse();
        if (driver.ProviderOf(settings) is { } provider)
        {
            response.Provider = provider;
            var (isChecked, unreachable) = await reachability.CheckAsync(
                provider, settings.GetValueOrDefault("model"), options.Value.ProviderConnectTimeout, context.CancellationToken);
            if (unreachable is not null) throw Guard.FailedPrecondition(Clip(unreachable));
            response.EndpointChecked = isChecked;
        }
        return response;
    }

    private static string Clip(string s) => s.Length <= MaxProblemLength ? s : s[..MaxProblemLength] + "…";

    public override Task<Run> GetRun(GetRunRequest request, ServerCallContext context)
    {
        var attemptId = Guard.Id(request.AttemptId, "attempt_id");
        var run = runs.Find(attemptId) ?? throw Guard.NotFound($"no run for attempt {attemptId}");
        return Task.FromResult(ToProto(run));
    }

    public override async Task<Run> StopRun(StopRunRequest request, ServerCallContext context)
    {
        var attemptId = Guard.Id(request.AttemptId, "attempt_id");
        var run = await runs.StopAsync(attemptId, request.Reason, options.Value.StopWait, context.CancellationToken)
            ?? throw Guard.NotFound($"no run for attempt {attemptId}");
        return ToProto(run);
    }

    private static Run ToProto(AgentRun run) => new()
    {
        AttemptId = run.AttemptId.ToString(),
        Agent = run.Agent,
        State = run.State.ToString().ToLowerInvariant(),
        Steps = run.Steps,
        Error = run.Error ?? "",
    };
}
