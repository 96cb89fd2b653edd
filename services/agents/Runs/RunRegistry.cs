using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using ReBench.Agents.Drivers;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Runs;

public sealed record RunSpec(
    Guid AttemptId, IAgentDriver Driver, string TaskId, string Variant, string Instructions, TimeSpan? TimeBudget,
    IReadOnlyDictionary<string, string> Settings);

/// <summary>
/// Owns every run's background task. Runs are kept by attempt id, so starting an attempt twice returns the first run;
/// on shutdown every run is cancelled and awaited.
/// </summary>
public sealed class RunRegistry(
    AttemptSession.AttemptSessionClient sessionClient,
    TransientRetry retry,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService
{
    private readonly ConcurrentDictionary<Guid, AgentRun> _runs = new();
    private bool _shuttingDown;
    private readonly Lock _gate = new();
    private readonly ILogger _logger = loggers.CreateLogger<RunRegistry>();

    /// <summary>The run for the attempt: the existing one, or a new one started on a background task.</summary>
    public AgentRun StartOrGet(RunSpec spec)
    {
        lock (_gate)
        {
            if (_runs.TryGetValue(spec.AttemptId, out var existing)) return existing;
            if (_shuttingDown)
                throw new RpcException(new Status(StatusCode.Unavailable, "the agents service is shutting down"));

            // Never disposed: plain sources hold nothing, and the host may dispose this singleton while StopAsync still runs.
            var run = new AgentRun(spec.AttemptId, spec.Driver.Name, new SessionClient(sessionClient, retry, spec.AttemptId),
                new CancellationTokenSource());
            _runs[spec.AttemptId] = run;
            _ = Task.Run(() => ExecuteAsync(run, spec));
            return run;
        }
    }

    public AgentRun? Find(Guid attemptId) => _runs.GetValueOrDefault(attemptId);

    /// <summary>Cancels the run's driver and waits a little for it to end. Stopping an ended run changes nothing.</summary>
    public async Task<AgentRun?> StopAsync(Guid attemptId, string reason, TimeSpan wait, CancellationToken ct)
    {
        if (!_runs.TryGetValue(attemptId, out var run)) return null;
        if (run.State == RunState.Running)
        {
            _logger.LogInformation("Stopping run {Attempt}: {Reason}", attemptId, string.IsNullOrEmpty(reason) ? "no reason given" : reason);
            await run.Cancellation.CancelAsync();
            try { await run.Ended.WaitAsync(wait, time, ct); }
            catch (TimeoutException) { _logger.LogWarning("Run {Attempt} did not end within {Wait} of being stopped", attemptId, wait); }
        }
        return run;
    }

    private async Task ExecuteAsync(AgentRun run, RunSpec spec)
    {
        var ct = run.Cancellation.Token;
        var started = Stopwatch.GetTimestamp();
        _logger.LogInformation("Run {Attempt} started: agent {Agent}, task {Task}/{Variant}, budget {Budget}",
            run.AttemptId, run.Agent, spec.TaskId, spec.Variant, spec.TimeBudget);
        var context = new AgentRunContext(spec.AttemptId, spec.TaskId, spec.Variant, spec.Instructions, spec.TimeBudget, spec.Settings,
            run.Session, loggers.CreateLogger($"ReBench.Agents.Drivers.{spec.Driver.Name}"));
        try
        {
            await spec.Driver.RunAsync(context, ct);
            run.End(RunState.Finished);
        }
        catch (AttemptEndedException e)
        {
            _logger.LogInformation("Run {Attempt}: the orchestrator ended the attempt: {Reason}", run.AttemptId, e.Message);
            run.End(RunState.Finished);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            run.End(RunState.Stopped);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Run {Attempt} failed", run.AttemptId);
            var error = e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message;
            await RunFailure.RecordAsync(run, error, _logger, ct);
            run.End(RunState.Failed, error);
        }
        _logger.LogInformation("Run {Attempt} ended: {State} after {Steps} steps in {Elapsed}",
            run.AttemptId, run.State, run.Steps, Stopwatch.GetElapsedTime(started));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        AgentRun[] runs;
        lock (_gate)
        {
            _shuttingDown = true;
            runs = [.. _runs.Values];
        }
        foreach (var run in runs) await run.Cancellation.CancelAsync();
        var running = runs.Select(r => r.Ended);
        try { await Task.WhenAll(running).WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { _logger.LogWarning("Shutdown went on before every run had stopped"); }
    }
}
