using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ReBench.Scoring.Tests;

/// <summary>A tasks root with one good and one broken bundle, served by the real service.</summary>
public sealed class MixedTasksHost : ScoringHost
{
    public MixedTasksHost() : this(new TempTasks()) { }

    private MixedTasksHost(TempTasks tasks) : base(WriteBundles(tasks), tasks) { }

    private static string WriteBundles(TempTasks tasks)
    {
        tasks.WriteBundle("good_task");
        var bad = tasks.WriteBundle("bad_task", TempTasks.ValidManifest.Replace("aggregation: min", "aggregation: median"));
        File.Delete(Path.Combine(bad, "scoring", "score.py"));
        return tasks.Root;
    }
}

public sealed class CatalogHealthTests(MixedTasksHost host) : IClassFixture<MixedTasksHost>
{
    [Fact]
    public async Task ListTasks_serves_the_good_bundle_and_lists_the_bad_one()
    {
        var list = await host.Client.ListTasksAsync(new ListTasksRequest());

        Assert.Equal(["good_task"], list.Tasks.Select(t => t.TaskId));
        Assert.Contains(list.InvalidBundles, b => b.Message.StartsWith("bad_task/manifest.yaml: scoring.aggregation") && b.Message.Contains("'median'"));
        Assert.Contains(list.InvalidBundles, b => b.Message.StartsWith("bad_task/scoring/score.py") && b.Path.EndsWith(Path.Combine("bad_task", "scoring", "score.py")));
    }

    [Fact]
    public async Task Health_is_Degraded_with_the_bundle_problems()
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var catalog = report.Entries["task-catalog"];
        Assert.Equal(HealthStatus.Degraded, catalog.Status);
        Assert.Contains("bad_task/manifest.yaml: scoring.aggregation", catalog.Description);
        Assert.Contains("bad_task/scoring/score.py", catalog.Description);
    }
}
