namespace ReBench.Tasks.Tests;

/// <summary>
/// The agent may read and run the official score.py of nanogpt_chat_rl, rust_codecontests_inference and
/// optimize_llm_foundry (scoring.agent_readable), but not their held-out data. Run as the agent would (plain python,
/// an unprivileged user, through the home link, the hidden folder chmod 000), each scorer must exit non-zero with one line saying the data is
/// readable only by the platform's scorer and pointing at the score action, not a PermissionError traceback.
/// Control: the same user, the same files, the hidden folder readable: the scorer gets past its data and goes on to
/// the official path (its usual JSON line), so the message depends on the permission and nothing else.
/// </summary>
// setpriv and chmod: Linux only, as the platform.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AgentRunScorerTests(ITestOutputHelper output) : IDisposable
{
    // An unprivileged user that exists on every Debian machine (the sandbox's agent user is created by the sandbox).
    private const string User = "nobody";
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-agentrun-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string, string> Scorers => new()
    {
        { "ai_rd_nanogpt_chat_rl", "HELDOUT_DATA" },
        { "ai_rd_rust_codecontests_inference", "data" },
        { "ai_rd_optimize_llm_foundry", "heldout" },
    };

    private (string Home, string Protected) Lay(string task, string hidden)
    {
        var home = Path.Combine(_root, "home");
        var prot = Path.Combine(_root, "protected");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(prot);
        foreach (var file in Directory.GetFiles(BundleScorer.Variant(task, "main").Folders.Scoring)) // as laid out, shared files included
            File.Copy(file, Path.Combine(prot, Path.GetFileName(file)));
        var data = Path.Combine(prot, hidden);
        Directory.CreateDirectory(data);
        switch (task)
        {
            case "ai_rd_nanogpt_chat_rl":
                File.WriteAllText(Path.Combine(data, "heldout_prompts.jsonl"), "{\"prompt\": \"Name a colour.\"}\n");
                File.WriteAllText(Path.Combine(data, "reference_responses.json"), "{\"gpt2-xl\": [\"Red.\"], \"gpt2-alpaca\": [\"Blue.\"]}");
                break;
            case "ai_rd_rust_codecontests_inference":
                File.WriteAllText(Path.Combine(data, "test.jsonl"), "{\"name\": \"add\", \"description\": \"Add a and b.\"}\n");
                break;
            // optimize_llm_foundry: an empty heldout/ (the control stops at "no held-out data", before any training).
        }
        foreach (var dir in new[] { _root, home, prot })
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.GetFiles(prot, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        return (home, prot);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsAgentAsync(string home, string prot)
    {
        // As the agent runs it: `python score.py` in its home, through the link the platform puts there
        // (~/score.py -> ../protected/score.py), without REBENCH_PROTECTED (the sandbox gives that to the scorer only).
        File.CreateSymbolicLink(Path.Combine(home, "score.py"), "../protected/score.py");
        var start = new ProcessStartInfo("setpriv",
            ["--reuid", User, "--regid", "nogroup", "--clear-groups", "/usr/bin/python3", "-s", "score.py"])
        {
            WorkingDirectory = home, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["HOME"] = home;
        start.Environment.Remove("REBENCH_PROTECTED");
        start.Environment.Remove("REBENCH_AGENT_EXEC");
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        output.WriteLine($"exit {p.ExitCode}\nstdout: {await stdout}\nstderr: {await stderr}");
        return (p.ExitCode, await stdout, await stderr);
    }

    [Theory]
    [MemberData(nameof(Scorers))]
    public async Task Run_by_the_agent_it_says_in_one_line_that_the_held_out_data_is_the_scorers(string task, string hidden)
    {
        var (home, prot) = Lay(task, hidden);
        File.SetUnixFileMode(Path.Combine(prot, hidden), UnixFileMode.None);

        var (code, stdout, stderr) = await RunAsAgentAsync(home, prot);

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout.Trim());
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("readable only by the platform's scorer", line);
        Assert.Contains("score action", line);
        Assert.DoesNotContain("Traceback", stderr);
        Assert.DoesNotContain("PermissionError", stderr);
        if (task == "ai_rd_rust_codecontests_inference") Assert.Contains("evaluate.py data/valid.jsonl", line);
    }

    [Theory]
    [MemberData(nameof(Scorers))]
    public async Task Control_with_the_data_readable_the_same_run_goes_on_to_the_official_path(string task, string hidden)
    {
        var (home, prot) = Lay(task, hidden);
        File.SetUnixFileMode(Path.Combine(prot, hidden), (UnixFileMode)0b111_101_101);

        var (code, stdout, stderr) = await RunAsAgentAsync(home, prot);

        Assert.Equal(0, code);
        Assert.DoesNotContain("readable only by the platform's scorer", stderr + stdout);
        // Each stops further on, for want of a submission (or, llm_foundry, of provisioned held-out sets): proof it
        // read or listed the data it could not read above.
        var expected = task switch
        {
            "ai_rd_nanogpt_chat_rl" => "\"n_prompts\": 1",
            "ai_rd_rust_codecontests_inference" => "solve_code_contests_rust.py does not exist",
            _ => "no held-out data under",
        };
        Assert.Contains(expected, stdout);
    }
}
