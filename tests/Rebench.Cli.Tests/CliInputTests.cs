using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Tests;

/// <summary>
/// Mistakes a new user makes, checked before anything is sent: each exits 2 with one "error:" line and no stack
/// trace. The gateway given is a closed port, so a check that is missing would show up as exit 5 (unavailable).
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-cli-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        ConsoleCollection.CaptureAsync(() => CliApp.RunAsync(["--gateway", "http://127.0.0.1:9", .. args]));

    private static void AssertOneCleanError((int Exit, string Out, string Err) r, int exit, string? contains = null)
    {
        Assert.True(r.Exit == exit, $"exit {r.Exit}, expected {exit}\n{r.Out}{r.Err}");
        Assert.StartsWith("error: ", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Exception", r.Err);
        Assert.DoesNotContain("System.", r.Err); // no CLR type names (System.Nullable`1[System.Int64], System.Int32)
        if (contains is not null) Assert.Contains(contains, r.Err);
    }

    public static TheoryData<string[], string> BadCampaigns => new()
    {
        { ["--k", "-1"], "--k -1" }, { ["--k", "0"], "--k 0" }, { ["--k", "101"], "--k 101" }, { ["--k", "abc"], "whole number" },
        { ["--budget", "abc"], "--budget 'abc'" }, { ["--budget", "-5m"], "more than zero" }, { ["--budget", "0s"], "more than zero" },
        { ["--budget", "8d"], "--budget '8d'" }, { ["--budget", "NaNm"], "--budget" }, { ["--budget", "9999999999h"], "--budget" },
        { ["--cost-cap", "-1"], "--cost-cap" }, { ["--cost-cap", "lots"], "--cost-cap" },
        { ["--task", "x:"], "task_id:variant" },
    };

    [Theory]
    [MemberData(nameof(BadCampaigns))]
    public async Task Campaign_create_checks_its_values_before_calling_the_platform(string[] extra, string message)
    {
        string[] args = ["campaign", "create", "--task", "ai_rd_triton_cumsum:cpu", "--agent", "noop", .. extra];
        AssertOneCleanError(await RunAsync(args), ExitCodes.BadInput, message);
    }

    [Fact]
    public async Task A_script_must_exist_and_be_JsonLines()
    {
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--agent", "scripted", "--script", Path.Combine(_dir, "missing.jsonl")),
            ExitCodes.BadInput, "does not exist");
        var bad = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllTextAsync(bad, "{\"run\": \"ls\"}\n{run: ls}\n");
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--agent", "scripted", "--script", bad), ExitCodes.BadInput, "line 2");
        await File.WriteAllTextAsync(bad, "[1, 2]\n");
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--agent", "scripted", "--script", bad), ExitCodes.BadInput, "line 1");
        // Control: a good script passes the local checks and reaches the (closed) gateway: exit 5, not 2.
        var good = Path.Combine(_dir, "good.jsonl");
        await File.WriteAllTextAsync(good, "{\"run\": \"ls\"}\n\n{\"submit\": \"\"}\n");
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--agent", "scripted", "--script", good), ExitCodes.Unavailable);
    }

    [Fact]
    public async Task Other_commands_check_their_values()
    {
        AssertOneCleanError(await RunAsync("attempts", "list", "--status", "bogus"), ExitCodes.BadInput, "--status 'bogus'");
        AssertOneCleanError(await RunAsync("attempts", "events", Guid.NewGuid().ToString(), "--from", "0"), ExitCodes.BadInput, "--from 0");
        AssertOneCleanError(await RunAsync("replay", Guid.NewGuid().ToString(), "--at", "abc"), ExitCodes.BadInput, "--at 'abc'");
        AssertOneCleanError(await RunAsync("export", Guid.NewGuid().ToString(), "-o", "/nonexistent-dir/x.zip"), ExitCodes.BadInput, "does not exist");
        AssertOneCleanError(await RunAsync("blob", "get", "abc"), ExitCodes.BadInput, "64 hex digits");
        AssertOneCleanError(await RunAsync("blob", "get", new string('a', 64), "-o", "/nonexistent-dir/b"), ExitCodes.BadInput, "does not exist");
        AssertOneCleanError(await RunAsync("report", "score-at-k", "--k", "0"), ExitCodes.BadInput, "--k 0");
        AssertOneCleanError(await RunAsync("report", "budgets", "--total", "-8h"), ExitCodes.BadInput, "--total");
        AssertOneCleanError(await RunAsync("tasks", "show", ":cpu"), ExitCodes.BadInput, "task_id");
        AssertOneCleanError(await RunAsync("campaign", "watch"), ExitCodes.BadInput); // parse error (missing argument) is bad input too
    }

    [Fact]
    public async Task Correction_kinds_are_the_known_ones_and_a_note_is_free_text()
    {
        var id = Guid.NewGuid().ToString();
        AssertOneCleanError(await RunAsync("audit", "correct", id, "--kind", "exclude_from_report", "--reason", "typo"), ExitCodes.BadInput, "exclude_from_report'");
        AssertOneCleanError(await RunAsync("audit", "correct", id, "--kind", "NOTE", "--reason", "x"), ExitCodes.BadInput);
        // Control: every known kind, and a note with any reason, pass the local check and reach the (closed) gateway.
        foreach (var kind in Parsing.CorrectionKinds)
            AssertOneCleanError(await RunAsync("audit", "correct", id, "--kind", kind, "--reason", "any text: ü, \"quotes\", 100%"), ExitCodes.Unavailable);
    }

    [Fact]
    public async Task An_unreachable_platform_is_exit_five_with_one_line()
    {
        var r = await RunAsync("attempts", "show", Guid.NewGuid().ToString());
        AssertOneCleanError(r, ExitCodes.Unavailable, "unavailable");
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Help_never_prints_the_api_key()
    {
        const string secret = "rb_secret_key_that_must_not_be_echoed";
        var old = Environment.GetEnvironmentVariable("REBENCH_API_KEY");
        Environment.SetEnvironmentVariable("REBENCH_API_KEY", secret);
        try
        {
            foreach (var args in new[] { new[] { "--help" }, ["campaign", "create", "--help"], ["attempts", "list", "--help"], ["verify", "--help"] })
            {
                var (exit, output, err) = await RunAsync(args);
                Assert.Equal(0, exit);
                Assert.Contains("--api-key", output);
                Assert.DoesNotContain(secret, output + err);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("REBENCH_API_KEY", old);
        }
    }

    [Fact]
    public async Task Root_help_documents_the_exit_codes()
    {
        var (exit, output, _) = await RunAsync("--help");
        Assert.Equal(0, exit);
        foreach (var text in new[] { "0 ok", "1 check failed", "2 bad input", "3 refused", "4 not found", "5 unavailable" }) Assert.Contains(text, output);
    }

    [Fact]
    public void Settings_follow_the_agent_they_come_after()
    {
        var r = CliApp.Build().Parse(["campaign", "create", "--task", "t", "--agent", "noop", "--agent", "modular", "--set", "provider=local",
            "--set", "model=m=1", "--set", "cost_budget_usd=5", "--agent", "scripted,reference", "--set", "token_budget=1000", "--cost-cap", "2.5"]);
        Assert.Empty(r.Errors);
        var agents = CampaignCommands.AgentsInOrder(r);
        Assert.Equal(["noop", "modular", "scripted", "reference"], agents.Select(a => a.Name));
        Assert.Empty(agents[0].Settings);
        Assert.Equal(new Dictionary<string, string> { ["provider"] = "local", ["model"] = "m=1", ["cost_budget_usd"] = "5" }, agents[1].Settings);
        Assert.Empty(agents[2].Settings);
        Assert.Equal("1000", agents[3].Settings["token_budget"]);
        var request = CampaignCommands.Request(r, ["t:v"], agents);
        Assert.Equal(2.5, request.CostCapUsd);
        Assert.Equal(("t", "v"), (request.Tasks[0].TaskId, request.Tasks[0].Variant));
    }

    [Theory]
    [InlineData("cost_budget_usd=-1")]
    [InlineData("cost_budget_usd=abc")]
    [InlineData("token_budget=1.5")]
    [InlineData("token_budget=0")]
    [InlineData("=x")]
    [InlineData("provider")]
    public async Task Bad_settings_are_bad_input(string setting)
    {
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--agent", "modular", "--set", setting), ExitCodes.BadInput, "--set");
    }

    [Fact]
    public async Task Set_before_any_agent_is_bad_input() =>
        AssertOneCleanError(await RunAsync("campaign", "create", "--task", "t", "--set", "model=m", "--agent", "modular"), ExitCodes.BadInput, "--set");

    [Fact]
    public void Budgets_parse()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), Parsing.Budget("90s").ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(3), Parsing.Budget("3m").ToTimeSpan());
        Assert.Equal(TimeSpan.FromHours(2), Parsing.Budget(" 2H ").ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(3), Parsing.Budget("00:03:00").ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(7), Parsing.Budget("168h").ToTimeSpan());
    }
}
