using ReBench.Sandbox.V1;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// Destroys an attempt's environment however the attempt ended. It runs under its own deadline with retries, never
/// under the token of the call that ended the attempt: that call (a driver's Submit, a cancel) is often cancelled by
/// the very stop of the agent run that precedes the destroy, and an environment left behind keeps the agent's
/// processes running and its CPUs, memory and GPUs counted as taken. What still fails is left to
/// <see cref="EnvironmentReconciler"/>, which destroys environments no live attempt owns.
/// </summary>
public sealed class EnvironmentTeardown(Sandbox.V1.Sandbox.SandboxClient sandbox, TimeProvider time, IOptions<OrchestratorOptions> options,
    ILogger<EnvironmentTeardown> logger)
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.DestroyTimeoutSeconds);
    private readonly int _tries = options.Value.DestroyTries;

    /// <summary>Destroyed (it existed), Absent (already gone), or Failed (every try failed).</summary>
    public async Task<DestroyOutcome> DestroyAsync(string? environmentId)
    {
        if (string.IsNullOrEmpty(environmentId)) return DestroyOutcome.Absent;
        for (var attempt = 1; ; attempt++)
        {
            using var deadline = new CancellationTokenSource(_timeout, time);
            try
            {
                var result = await sandbox.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = environmentId }, cancellationToken: deadline.Token);
                return result.Existed ? DestroyOutcome.Destroyed : DestroyOutcome.Absent;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.NotFound)
            {
                return DestroyOutcome.Absent;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument || attempt >= _tries)
            {
                logger.LogWarning("Destroying environment {Env} failed ({Tries} tries): {Status}; the reconciler will try again", environmentId, attempt, e.Status);
                return DestroyOutcome.Failed;
            }
            catch (RpcException e)
            {
                logger.LogInformation("Destroying environment {Env} failed (try {Try} of {Tries}): {Status}", environmentId, attempt, _tries, e.Status);
                await Task.Delay(TimeSpan.FromSeconds(attempt), time, CancellationToken.None);
            }
        }
    }

    /// <summary>Asks the agents service to stop an attempt's run, under its own short deadline (best effort: a run that is gone is fine).</summary>
    public static async Task StopRunAsync(Agents.V1.Agents.AgentsClient agents, Guid attemptId, string reason, TimeProvider time, ILogger logger)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15), time);
        try
        {
            await agents.StopRunAsync(new Agents.V1.StopRunRequest { AttemptId = attemptId.ToString(), Reason = reason }, cancellationToken: deadline.Token);
        }
        catch (RpcException e)
        {
            logger.LogDebug("StopRun for {Attempt}: {Status}", attemptId, e.Status);
        }
    }
}

public enum DestroyOutcome { Destroyed, Absent, Failed }
