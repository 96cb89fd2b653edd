using Microsoft.Extensions.Options;

namespace ReBench.Orchestrator;

/// <summary>
/// A reconciler's loop: one round at start and one every <c>Orchestrator:ReconcileIntervalSeconds</c> (validated at
/// start), on the injected TimeProvider. A round that fails (the sandbox or the database down or restarting) is
/// logged and tried again at the next one: what it derives is still derivable then.
/// </summary>
public abstract class PeriodicRounds(IOptions<OrchestratorOptions> options, TimeProvider time, ILogger logger) : BackgroundService
{
    // For the rounds themselves: a subclass that captured its own constructor's copies as well would hold them twice.
    protected OrchestratorOptions Options => options.Value;
    protected TimeProvider Time => time;
    protected ILogger Logger => logger;

    protected TimeSpan Interval => TimeSpan.FromSeconds(options.Value.ReconcileIntervalSeconds);

    /// <summary>What a round does, for the log line of one that failed ("Environment reconciliation").</summary>
    protected abstract string RoundName { get; }

    protected abstract Task RoundAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogInformation("{Round} failed; retrying in {Interval}: {Error}", RoundName, Interval, e.Message);
            }
            try { await Task.Delay(Interval, time, stoppingToken); } catch (OperationCanceledException) { }
        }
    }
}
