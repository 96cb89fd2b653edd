using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ReBench.Scoring.Catalog;

/// <summary>Degraded while any bundle is refused (or none is served), so a broken task shows up before a campaign needs it.</summary>
public sealed class TaskCatalogHealthCheck(TaskCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var served = catalog.Bundles.Count();
        var data = new Dictionary<string, object> { ["root"] = catalog.Root, ["tasks"] = served };
        if (catalog.Problems.Count > 0)
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{catalog.Problems.Count} problem(s) in task bundles under {catalog.Root}: {string.Join("; ", catalog.Problems.Select(p => p.Message))}",
                data: data));
        if (served == 0)
            return Task.FromResult(HealthCheckResult.Degraded($"no task bundles under {catalog.Root}", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{served} task(s) from {catalog.Root}", data));
    }
}
