namespace ReBench.Sandbox.Tests;

/// <summary>
/// Scorer runs join groups of their own under rebench-scoring, whose CPU weight puts them ahead of the agent's work and
/// of everything else on the host, with the environment's own limits. Whether that steadies a timed score is measured
/// in bench/SandboxBench (scorer-priority), not asserted here; these tests pin down where the processes run.
/// </summary>
public sealed class ScorerPriorityTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    /// <summary>The cpu controller's line of /proc/self/cgroup (v1 "N:cpu,...:/path", v2 "0::/path").</summary>
    private static string CpuGroup(string procSelfCgroup)
    {
        var lines = procSelfCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 3)).ToList();
        var cpu = lines.FirstOrDefault(p => p[1].Split(',').Contains("cpu")) ?? lines.First(p => p[0] == "0");
        return cpu[2];
    }

    [Fact]
    public async Task A_scorer_runs_in_the_scoring_group_with_the_environments_limits_and_the_agent_does_not()
    {
        var env = await sandbox.NewEnvironmentAsync(resources: new Resources { Cpus = 1, MemoryMb = 256 });
        var agent = await sandbox.Client.RunAsync(env, "cat /proc/self/cgroup");
        var scorer = await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "cat /proc/self/cgroup", AsScorer = true });
        Assert.EndsWith($"/rebench-sandbox/{env}", CpuGroup(agent.Stdout));
        Assert.EndsWith($"/rebench-scoring/{env}", CpuGroup(scorer.Stdout));

        var groups = sandbox.ScorerCgroupsOf(env);
        Assert.NotEmpty(groups);
        Assert.All(groups, g => Assert.Equal("rebench-scoring", Path.GetFileName(Path.GetDirectoryName(g))));
        string Value(string file) => File.ReadAllText(groups.Select(c => Path.Combine(c, file)).First(File.Exists)).Trim();
        string Base(string file) => File.ReadAllText(groups.Select(c => Path.Combine(Path.GetDirectoryName(c)!, file)).First(File.Exists)).Trim();
        if (groups.Any(g => File.Exists(Path.Combine(g, "memory.limit_in_bytes"))))
        {
            Assert.Equal("268435456", Value("memory.limit_in_bytes"));
            Assert.Equal("1024", Value("cpu.shares"));
            Assert.Equal("100000", Value("cpu.cfs_quota_us"));
            Assert.Equal("102400", Base("cpu.shares")); // weight 10000 as systemd maps CPUWeight to CPUShares
        }
        else
        {
            Assert.Equal("268435456", Value("memory.max"));
            Assert.Equal("100000 100000", Value("cpu.max"));
            Assert.Equal("10000", Base("cpu.weight"));
        }
        Assert.Equal(IsolatedSandboxFixture.PidsMax.ToString(), Value("pids.max"));

        // The scorer's memory cap is the environment's: going past it is reported as an OOM kill of the scorer run.
        var hog = await sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env, AsScorer = true, TimeoutSeconds = 60,
            Command = "python3 -c \"x = b'x' * (400 * 1024 * 1024)\"",
        });
        Assert.True(hog.Exit.OomKilled, $"exit {hog.Exit.ExitCode}: {hog.Stderr}");

        // Destroy takes the scoring groups with the environment's.
        var all = sandbox.CgroupsOf(env).Concat(groups).ToList();
        await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.Empty(sandbox.LeftoversOf(env, all));
    }
}
