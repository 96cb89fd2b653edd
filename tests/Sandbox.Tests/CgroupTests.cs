using ReBench.Sandbox.Environments;
using Cgroups = ReBench.Sandbox.Local.Isolation.Cgroups;

namespace ReBench.Sandbox.Tests;

/// <summary>
/// Detection of the usable cgroup hierarchy and the limit files each one gets. The kernel side is exercised where this
/// machine has it; the v2 limit files are written against a plain directory tree shaped like cgroupfs, since this
/// machine's v2 hierarchy has no memory, pids or cpu controller (they are all bound to v1).
/// </summary>
public sealed class CgroupTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _tree = Directory.CreateTempSubdirectory("rebench-cgroupfs-").FullName;

    public void Dispose() => Directory.Delete(_tree, recursive: true);

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_tree, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private string Read(string relative) => File.ReadAllText(Path.Combine(_tree, relative)).Trim();

    [Fact]
    public void V2_limits_are_written_to_memory_max_pids_max_cpu_max_and_cpu_weight()
    {
        var cgroups = Cgroups.V2At(_tree);
        Write("env-1/memory.swap.max", "max"); // present where swap accounting is on
        var paths = cgroups.Create("env-1", new ResourceSpec(2, 64, 0, 0, ""), 128);
        Assert.Equal([Path.Combine(_tree, "env-1")], paths);
        Assert.Equal("67108864", Read("env-1/memory.max"));
        Assert.Equal("0", Read("env-1/memory.swap.max"));
        Assert.Equal("128", Read("env-1/pids.max"));
        Assert.Equal("200000 100000", Read("env-1/cpu.max"));
        Assert.Equal("200", Read("env-1/cpu.weight"));

        // No resources: only the pids cap, nothing else is written.
        cgroups.Create("env-2", null, 4096);
        Assert.Equal("4096", Read("env-2/pids.max"));
        Assert.False(File.Exists(Path.Combine(_tree, "env-2", "memory.max")));
        Assert.False(File.Exists(Path.Combine(_tree, "env-2", "cpu.max")));
    }

    [Fact]
    public void Oom_kills_are_read_from_memory_events_in_v2_and_memory_oom_control_in_v1()
    {
        Write("v2/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n");
        Write("v1/memory/env/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        Directory.CreateDirectory(Path.Combine(_tree, "v1/pids/env"));
        Assert.Equal(2, Cgroups.OomKills([Path.Combine(_tree, "v2")]));
        Assert.Equal(3, Cgroups.OomKills([Path.Combine(_tree, "v1/pids/env"), Path.Combine(_tree, "v1/memory/env")]));
        Assert.Equal(0, Cgroups.OomKills([Path.Combine(_tree, "nothing-here")]));
    }

    [Fact]
    public void Auto_takes_v2_on_a_pure_v2_host_and_hands_the_controllers_down()
    {
        Write("system.slice/rebench.service/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        Write("system.slice/rebench.service/cgroup.subtree_control", "");
        Write("system.slice/rebench.service/cgroup.procs", "1\n"); // not only us: no self-move is attempted
        string[] mounts = ["sysfs /sys sysfs rw 0 0", $"cgroup2 {_tree} cgroup2 rw,nosuid,nodev,noexec 0 0"];
        var cgroups = Cgroups.DetectFrom("auto", mounts, ["0::/system.slice/rebench.service"], probeKernel: false, out var reason);
        Assert.NotNull(cgroups);
        Assert.Equal("v2", cgroups.Version);
        Assert.Contains("cgroup v2", reason);
        Assert.Equal("+memory +pids +cpu", Read("system.slice/rebench.service/cgroup.subtree_control"));
        Assert.Equal("+memory +pids +cpu", Read("system.slice/rebench.service/rebench-sandbox/cgroup.subtree_control"));
        Assert.Equal([Path.Combine(_tree, "system.slice/rebench.service/rebench-sandbox/e1")], cgroups.PathsFor("e1"));
    }

    [Fact]
    public void V2_without_the_controllers_is_refused_with_the_reason()
    {
        // This machine's shape: the controllers are bound to v1, so the unified hierarchy offers none of them.
        Write("unified/cgroup.controllers", "\n");
        string[] mounts = [$"cgroup2 {_tree}/unified cgroup2 rw 0 0"];
        Assert.Null(Cgroups.DetectFrom("v2", mounts, ["0::/"], probeKernel: false, out var reason));
        Assert.Contains("offers controllers [], not memory, pids, cpu", reason);
        Assert.Null(Cgroups.DetectFrom("v2", ["proc /proc proc rw 0 0"], ["0::/"], false, out reason));
        Assert.Contains("no cgroup v2 hierarchy is mounted", reason);
        Assert.Throws<InvalidOperationException>(() => Cgroups.DetectFrom("v3", mounts, [], false, out _));
    }

    [Fact]
    public void V1_is_preferred_where_memory_pids_and_cpu_are_v1_and_gets_the_v1_files()
    {
        string[] mounts =
        [
            $"cgroup {_tree}/cpu cgroup rw,relatime,cpu 0 0", $"cgroup {_tree}/memory cgroup rw,relatime,memory 0 0",
            $"cgroup {_tree}/pids cgroup rw,relatime,pids 0 0", $"cgroup2 {_tree}/unified cgroup2 rw 0 0",
        ];
        var cgroups = Cgroups.DetectFrom("auto", mounts, ["8:pids:/", "4:memory:/job/7", "1:cpu:/", "0::/"], probeKernel: false, out var reason);
        Assert.NotNull(cgroups);
        Assert.Equal("v1", cgroups.Version);
        var paths = cgroups.Create("e1", new ResourceSpec(3, 100, 0, 0, ""), 64);
        Assert.Equal(Path.Combine(_tree, "memory/job/7/rebench-sandbox/e1"), paths[0]);
        Assert.Equal("104857600", Read("memory/job/7/rebench-sandbox/e1/memory.limit_in_bytes"));
        Assert.Equal("64", Read("pids/rebench-sandbox/e1/pids.max"));
        Assert.Equal("3072", Read("cpu/rebench-sandbox/e1/cpu.shares"));
        Assert.Equal("300000", Read("cpu/rebench-sandbox/e1/cpu.cfs_quota_us"));
        Assert.Contains("cgroup v1", reason);
    }

    [Fact]
    public void Scoring_groups_are_siblings_of_the_environments_at_the_scoring_weight_with_the_same_limits()
    {
        string[] mounts =
        [
            $"cgroup {_tree}/cpu cgroup rw,relatime,cpu 0 0", $"cgroup {_tree}/memory cgroup rw,relatime,memory 0 0",
            $"cgroup {_tree}/pids cgroup rw,relatime,pids 0 0",
        ];
        var v1 = Cgroups.DetectFrom("v1", mounts, ["8:pids:/", "4:memory:/job/7", "1:cpu:/"], probeKernel: false, out _)!;
        Assert.False(v1.ScoringPriority);
        Assert.Empty(v1.CreateScoring("e1", new ResourceSpec(2, 100, 0, 0, ""), 64));
        var scoring = v1.WithScoringPriority(10000, out var reason);
        Assert.True(scoring.ScoringPriority, reason);
        Assert.Equal("102400", Read("cpu/rebench-scoring/cpu.shares"));
        var paths = scoring.CreateScoring("e1", new ResourceSpec(2, 100, 0, 0, ""), 64);
        Assert.Equal([Path.Combine(_tree, "memory/job/7/rebench-scoring/e1"), Path.Combine(_tree, "pids/rebench-scoring/e1"), Path.Combine(_tree, "cpu/rebench-scoring/e1")], paths);
        Assert.Equal(paths, scoring.ScoringPathsFor("e1"));
        Assert.Equal("104857600", Read("memory/job/7/rebench-scoring/e1/memory.limit_in_bytes"));
        Assert.Equal("64", Read("pids/rebench-scoring/e1/pids.max"));
        Assert.Equal("2048", Read("cpu/rebench-scoring/e1/cpu.shares"));
        Assert.Equal("200000", Read("cpu/rebench-scoring/e1/cpu.cfs_quota_us"));
        Assert.Equal(Path.Combine(_tree, "cpu/rebench-sandbox/e1"), scoring.PathsFor("e1")[2]); // the agent's groups stay
        v1.WithScoringPriority(100, out _); // the default weight maps to the default share
        Assert.Equal("1024", Read("cpu/rebench-scoring/cpu.shares"));
        Assert.Throws<InvalidOperationException>(() => v1.WithScoringPriority(10001, out _));

        // v2: the scoring group gets the controllers handed down and cpu.weight.
        Write("svc/cgroup.controllers", "cpu memory pids\n");
        Write("svc/cgroup.subtree_control", "");
        Write("svc/cgroup.procs", "1\n");
        var v2 = Cgroups.DetectFrom("v2", [$"cgroup2 {_tree} cgroup2 rw 0 0"], ["0::/svc"], probeKernel: false, out _)!;
        var v2Scoring = v2.WithScoringPriority(10000, out reason);
        Assert.True(v2Scoring.ScoringPriority, reason);
        Assert.Equal("10000", Read("svc/rebench-scoring/cpu.weight"));
        Assert.Equal("+memory +pids +cpu", Read("svc/rebench-scoring/cgroup.subtree_control"));
        Assert.Equal([Path.Combine(_tree, "svc/rebench-scoring/e2")], v2Scoring.CreateScoring("e2", new ResourceSpec(1, 64, 0, 0, ""), 32));
        Assert.Equal("100000 100000", Read("svc/rebench-scoring/e2/cpu.max"));
    }

    /// <summary>The kernel's answer on this machine: v2 is driven for real where it can take the controllers, else refused with why.</summary>
    [Fact]
    public void This_machines_v2_hierarchy_is_driven_or_refused_with_the_reason()
    {
        var v2 = Cgroups.Detect("v2", out var reason);
        output.WriteLine($"Sandbox:Cgroups=v2 on this machine: {(v2 is null ? "not usable" : "usable")}: {reason}");
        if (v2 is null)
        {
            Assert.Matches("not usable|no cgroup v2", reason);
            return;
        }
        var id = "test-" + Guid.NewGuid().ToString("N");
        var paths = v2.Create(id, new ResourceSpec(1, 64, 0, 0, ""), 32);
        try
        {
            Assert.Equal("67108864", File.ReadAllText(Path.Combine(paths[0], "memory.max")).Trim());
            Assert.Equal("32", File.ReadAllText(Path.Combine(paths[0], "pids.max")).Trim());
            Assert.Equal("100000 100000", File.ReadAllText(Path.Combine(paths[0], "cpu.max")).Trim());
            var hog = Host.Run("/bin/sh", "-c",
                $"echo $$ > {paths[0]}/cgroup.procs && exec python3 -c \"x = b'x' * (400 * 1024 * 1024)\"");
            Assert.Equal(137, hog.ExitCode);
            Assert.True(Cgroups.OomKills(paths) >= 1, "memory.events shows no oom_kill");
        }
        finally
        {
            Assert.True(Cgroups.KillAndRemove(paths, TimeSpan.FromSeconds(10)));
        }
    }

    /// <summary>v2 without controllers still has cgroup.procs and cgroup.kill: Destroy's kill path, on the real hierarchy.</summary>
    [Fact]
    public async Task A_v2_group_is_killed_whole_and_removed()
    {
        var mount = (await File.ReadAllLinesAsync("/proc/self/mounts")).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length > 3 && p[2] == "cgroup2");
        if (mount is null || !File.Exists(Path.Combine(mount[1], "cgroup.procs"))) return; // no v2 here at all
        var own = (await File.ReadAllLinesAsync("/proc/self/cgroup")).Select(l => l.Split(':', 3)).First(p => p[0] == "0")[2];
        var group = Path.Combine(mount[1], own.TrimStart('/'), "rebench-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(group);
        var marker = "rebench-v2-kill-" + Guid.NewGuid().ToString("N");
        using var tree = Process.Start(new ProcessStartInfo("/bin/bash", ["-c",
            $"echo $$ > {group}/cgroup.procs; (exec -a {marker} sleep 1000) & (exec -a {marker} sleep 1000) & wait"]))!;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Cgroups.Pids([group]).Count < 3 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(3, Cgroups.Pids([group]).Count);
        Assert.True(Cgroups.KillAndRemove([group], TimeSpan.FromSeconds(10)));
        Assert.False(Directory.Exists(group));
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)));
        await tree.WaitForExitAsync();
    }
}
