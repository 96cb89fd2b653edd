using Grpc.Core;
using ReBench.Sandbox.V1;
using ReBench.Scoring.Catalog;

namespace ReBench.Scoring.Submissions;

/// <summary>
/// The task variables a variant gives the agent itself (manifest agent_environment_variables, e.g. a judge's endpoint
/// and key that the agent's own evaluation calls, as upstream's agent has them): values from the same operator
/// configuration as the scorer's (TaskEnvironment:NAME), handed to the sandbox for the environment's agent commands
/// before the agent starts. The values are secrets: no message, log line or event carries them, only their names.
/// </summary>
public sealed class AgentEnvironment(Sandbox.V1.Sandbox.SandboxClient sandbox, IConfiguration configuration)
{
    /// <summary>The values, or FAILED_PRECONDITION naming every variable the operator has not configured.</summary>
    public IReadOnlyDictionary<string, string> Values(TaskVariant task)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var name in task.AgentEnvironmentVariables)
        {
            if (configuration[$"TaskEnvironment:{name}"] is { Length: > 0 } value) values[name] = value;
            else missing.Add(name);
        }
        if (missing.Count > 0)
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"{task.TaskId}/{task.Name} gives the agent {string.Join(", ", missing)}, which the operator has not configured " +
                $"(scoring configuration {string.Join(", ", missing.Select(n => $"TaskEnvironment:{n}"))})"));
        return values;
    }

    /// <summary>Gives the environment's agent commands the variant's variables (and its file); idempotent.</summary>
    public async Task DeliverAsync(string environmentId, TaskVariant task, CancellationToken ct)
    {
        var values = Values(task);
        if (values.Count == 0) return;
        var request = new SetAgentEnvironmentRequest { EnvironmentId = environmentId, File = task.AgentEnvironmentFile ?? "" };
        foreach (var (name, value) in values) request.Env[name] = value;
        await sandbox.SetAgentEnvironmentAsync(request, cancellationToken: ct);
    }
}
