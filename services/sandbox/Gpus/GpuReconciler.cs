namespace ReBench.Sandbox.Gpus;

/// <summary>Sweeps allocations of dead environments at start (after a restart some may have gone) and then periodically.</summary>
public sealed class GpuReconciler(GpuAllocatingDriver driver, GpuOptions options, TimeProvider time, ILogger<GpuReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.ReconcileSeconds)), time);
        do
        {
            try { await driver.ReconcileAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning(e, "GPU allocation sweep failed"); }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
