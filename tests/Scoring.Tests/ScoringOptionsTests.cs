using ReBench.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace ReBench.Scoring.Tests;

/// <summary>The "Scoring" section is bound once and checked at start: a bad value stops the service, naming the key.</summary>
public sealed class ScoringOptionsTests
{
    [Theory]
    [InlineData("Schema", "scoring; drop table x")]
    [InlineData("TasksRoot", "/nonexistent/rebench-tasks")]
    [InlineData("LayersRoot", "/nonexistent/rebench-layers")]
    [InlineData("TaskStandardPython", "   ")]
    public void A_bad_value_stops_the_service_at_start_naming_the_key(string key, string value)
    {
        using var tasks = new TempTasks();
        var e = ReBench.Testing.FailedStart.Of(() => new Host(tasks.Root, (key, value)));

        Assert.NotNull(e);
        Assert.Contains(key, e.Message);
    }

    [Theory]
    [InlineData("Schema", "scoring_opts")]
    [InlineData("TaskStandardPython", "/usr/bin/python3")]
    [InlineData("AssetsRoot", "/nonexistent/assets")] // a root the operator has not filled yet: variants report missing assets, as before
    public void The_same_host_starts_with_good_values(string key, string value)
    {
        // Control: the failures above come from the values, not from a host that cannot start at all.
        using var tasks = new TempTasks();
        tasks.WriteBundle("good_task");
        using var host = new Host(tasks.Root, (key, value));

        _ = host.Server;

        var options = host.Services.GetRequiredService<IOptions<ScoringOptions>>().Value;
        Assert.Equal(value, typeof(ScoringOptions).GetProperty(key)!.GetValue(options));
        Assert.Equal(["good_task"], host.Services.GetRequiredService<Catalog.TaskCatalog>().Bundles.Select(b => b.Id));
    }

    [Fact]
    public void The_Task_Standard_interpreter_is_python3_unless_one_is_set()
    {
        Assert.Equal("python3", new ScoringOptions().Python);
        Assert.Equal("python3", new ScoringOptions { TaskStandardPython = "" }.Python);
        Assert.Equal("/opt/py/bin/python", new ScoringOptions { TaskStandardPython = "/opt/py/bin/python" }.Python);
    }

    private sealed class Host(string tasksRoot, (string Key, string Value) setting) : WebApplicationFactory<ScoringEntryPoint>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting(TestPlatformKey.Setting.Key, TestPlatformKey.Key);
            builder.UseSetting("Services:Sandbox", "http://127.0.0.1:9"); // never called: no request is made
            builder.UseSetting("Scoring:TasksRoot", tasksRoot);
            builder.UseSetting($"Scoring:{setting.Key}", setting.Value);
        }
    }
}
