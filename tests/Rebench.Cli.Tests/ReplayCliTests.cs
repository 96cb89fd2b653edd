using ReBench.Audit;

namespace ReBench.Cli.Tests;

/// <summary>`rebench replay --from-export`: the real command line on an export bundle, no platform needed.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReplayCliTests : IDisposable
{
    private readonly string _bundle = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.zip");

    public ReplayCliTests()
    {
        var events = ReplayFoldTests.Attempt().Select((e, i) => new StoredEvent(i + 1, e.Type, e.Json, new string('0', 64))).ToList();
        using var f = File.Create(_bundle);
        Bundle.Write(f, "attempt", ReplayFoldTests.AttemptId, new BundleKey("Ed25519", "0000000000000000", new byte[32]), events, events[^1].Hash!, DateTimeOffset.UnixEpoch);
    }

    public void Dispose() => File.Delete(_bundle);

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        ConsoleCollection.CaptureAsync(() => CliApp.Build().Parse(args).InvokeAsync());

    [Fact]
    public async Task State_at_an_event_from_an_export_as_Json()
    {
        var (exit, output, _) = await RunAsync("replay", "--from-export", _bundle, "--at", "12", "--format", "json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(12, root.GetProperty("at_event").GetInt64());
        Assert.Equal("running", root.GetProperty("status").GetString());
        Assert.Equal(13, root.GetProperty("working_seconds").GetDouble());
        Assert.Equal(new string('b', 64), root.GetProperty("files")[0].GetProperty("sha256").GetString());
        Assert.Equal(0.75, root.GetProperty("cost_usd").GetDouble());
    }

    [Fact]
    public async Task Timeline_table_filtered_by_kind()
    {
        var (exit, output, _) = await RunAsync("replay", "--from-export", _bundle, "--kind", "model", "--kind", "pause");
        Assert.Equal(0, exit);
        Assert.Contains("fake/m in=100 out=20", output);
        Assert.Contains("paused: break", output);
        Assert.DoesNotContain("python3 a.py", output);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("16")]
    public async Task At_outside_the_events_is_bad_input(string at)
    {
        var (exit, _, error) = await RunAsync("replay", "--from-export", _bundle, "--at", at);
        Assert.Equal(2, exit);
        Assert.Contains("outside the attempt's events 1..15", error);
    }

    [Fact]
    public async Task Not_an_archive_is_bad_input()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "not a zip");
            var (exit, _, error) = await RunAsync("replay", "--from-export", path);
            Assert.Equal(2, exit);
            Assert.StartsWith("error:", error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>The tests that swap the process's console (one at a time: the console is the process's).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";

    /// <summary>Runs the command line with the console's output and error captured, and restores them after.</summary>
    internal static async Task<(int Exit, string Out, string Err)> CaptureAsync(Func<Task<int>> run)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await run();
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
