using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// Per-environment cgroups, created under the service's own cgroup so that whatever limits the service lives under
/// also bound its environments. Either hierarchy (<c>Sandbox:Cgroups</c> = auto | v1 | v2): v1 has one directory per
/// controller (<c>/sys/fs/cgroup/{memory,pids,cpu}</c>), v2 one directory in the unified hierarchy
/// (<c>/sys/fs/cgroup</c> or <c>/sys/fs/cgroup/unified</c>) with the controllers enabled by <c>cgroup.subtree_control</c>
/// (<see cref="CgroupV2"/>). Auto prefers v1 where all three v1 controllers are mounted (a kernel binds a controller
/// to one hierarchy only, so then v2 has none of them), else v2.
/// </summary>
public sealed class Cgroups
{
    public const string FsRoot = "/sys/fs/cgroup";
    public static readonly string[] Controllers = ["memory", "pids", "cpu"];
    private const string Leaf = "rebench-sandbox";
    private const string ScoringLeaf = "rebench-scoring";
    private readonly Dictionary<string, string> _bases;
    private readonly Dictionary<string, string>? _scoringBases;

    private Cgroups(string version, Dictionary<string, string> bases, Dictionary<string, string>? scoringBases = null)
    {
        Version = version;
        _bases = bases;
        _scoringBases = scoringBases;
    }

    /// <summary>v1 | v2.</summary>
    public string Version { get; }

    /// <summary>Cgroups on a v2 directory without probing the kernel (tests drive the file writes against a plain tree).</summary>
    public static Cgroups V2At(string baseDir, string? scoringDir = null) =>
        new("v2", new() { ["unified"] = baseDir }, scoringDir is null ? null : new() { ["unified"] = scoringDir });

    /// <summary>Whether scorer runs get groups of their own at the scoring CPU weight (<see cref="WithScoringPriority"/>).</summary>
    public bool ScoringPriority => _scoringBases is not null;

    /// <summary>
    /// Scorer runs get cgroups of their own under <c>rebench-scoring</c>, a sibling of <c>rebench-sandbox</c> whose CPU
    /// weight is <paramref name="weight"/> (v2 scale, 1..10000; v1 cpu.shares = weight x 1024 / 100, as systemd maps
    /// CPUWeight to CPUShares). A scorer that times the submission (the kernel task's milliseconds, LLM Foundry's
    /// seconds) then measures the submission rather than how busy the host is: under contention from other
    /// environments, the agent's own background processes or anything else on the machine, the scheduler gives the
    /// scorer its share first. Its hard caps stay the environment's (memory, pids, cpu quota), so priority never buys
    /// more than the task's CPUs. Returns this without scoring groups, and why, when they cannot be made.
    /// </summary>
    public Cgroups WithScoringPriority(int weight, out string reason)
    {
        if (weight is < 1 or > 10000) throw new InvalidOperationException($"Sandbox:ScoringCpuWeight {weight} is not in 1..10000 (0 turns scorer priority off)");
        var bases = _bases.ToDictionary(b => b.Key, b => Path.Combine(Path.GetDirectoryName(b.Value)!, ScoringLeaf));
        try
        {
            if (Version == "v2")
            {
                var dir = bases["unified"];
                if (CgroupV2.Prepare(Path.GetDirectoryName(dir)!, dir, Controllers) is { } error)
                {
                    reason = error;
                    return this;
                }
                File.WriteAllText(Path.Combine(dir, "cpu.weight"), weight.ToString());
            }
            else
            {
                foreach (var dir in bases.Values) Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(bases["cpu"], "cpu.shares"), Math.Clamp(weight * 1024L / 100, 2, 262144).ToString());
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot set up {ScoringLeaf} groups: {e.Message}";
            return this;
        }
        reason = $"scorer runs in {string.Join(", ", bases.Values.Distinct())} at CPU weight {weight}";
        return new Cgroups(Version, _bases, bases);
    }

    /// <summary>Returns the usable hierarchy for <paramref name="mode"/>, or null with the reason in <paramref name="reason"/>.</summary>
    public static Cgroups? Detect(string? mode, out string reason) =>
        DetectFrom(mode, File.ReadAllLines("/proc/self/mounts"), File.ReadAllLines("/proc/self/cgroup"), true, out reason);

    /// <param name="mounts">Lines of /proc/self/mounts.</param>
    /// <param name="ownCgroups">Lines of /proc/self/cgroup.</param>
    /// <param name="probeKernel">Create a probe cgroup and check that the kernel gave it the controllers' files.</param>
    public static Cgroups? DetectFrom(string? mode, IEnumerable<string> mounts, IEnumerable<string> ownCgroups, bool probeKernel, out string reason)
    {
        var requested = (mode ?? "auto").Trim().ToLowerInvariant();
        if (requested is not ("auto" or "v1" or "v2")) throw new InvalidOperationException($"Sandbox:Cgroups '{mode}' is not one of auto, v1, v2");
        var table = mounts.Select(l => l.Split(' ')).Where(p => p.Length > 3).ToList();
        var own = ownCgroups.Select(l => l.Split(':', 3)).Where(p => p.Length == 3).ToList();
        string? v1Reason = null, v2Reason = null;
        if (requested is "auto" or "v1")
        {
            var v1 = DetectV1(table, own, out v1Reason);
            if (v1 is not null) { reason = v1Reason; return v1; }
        }
        if (requested is "auto" or "v2")
        {
            var v2 = DetectV2(table, own, probeKernel, out v2Reason);
            if (v2 is not null) { reason = v2Reason; return v2; }
        }
        reason = string.Join("; ", new[] { v1Reason, v2Reason }.OfType<string>());
        return null;
    }

    private static Cgroups? DetectV1(List<string[]> mounts, List<string[]> own, out string reason)
    {
        var bases = new Dictionary<string, string>();
        foreach (var controller in Controllers)
        {
            var mount = mounts.FirstOrDefault(p => p[2] == "cgroup" && p[3].Split(',').Contains(controller));
            if (mount is null)
            {
                reason = $"no cgroup v1 '{controller}' hierarchy is mounted";
                return null;
            }
            var path = own.FirstOrDefault(p => p[1].Split(',').Contains(controller))?[2] ?? "/";
            var dir = Path.Combine(mount[1], path.TrimStart('/'), Leaf);
            if (!CanCreateUnder(dir, out var error))
            {
                reason = $"cannot create cgroup v1 groups under {dir}: {error}";
                return null;
            }
            bases[controller] = dir;
        }
        reason = "cgroup v1 " + string.Join(", ", bases.Select(b => $"{b.Key}={b.Value}"));
        return new Cgroups("v1", bases);
    }

    private static Cgroups? DetectV2(List<string[]> mounts, List<string[]> own, bool probeKernel, out string reason)
    {
        // /sys/fs/cgroup itself on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
        var mount = mounts.Where(p => p[2] == "cgroup2").OrderBy(p => p[1].Length).FirstOrDefault();
        if (mount is null)
        {
            reason = "no cgroup v2 hierarchy is mounted";
            return null;
        }
        var ownPath = own.FirstOrDefault(p => p[0] == "0" && p[1] == "")?[2] ?? "/";
        var parent = Path.Combine(mount[1], ownPath.TrimStart('/'));
        var dir = Path.Combine(parent, Leaf);
        var error = CgroupV2.Prepare(parent, dir, Controllers);
        if (error is null && !CanCreateUnder(dir, out var createError, probeKernel ? Controllers : [])) error = createError;
        if (error is not null)
        {
            reason = $"cgroup v2 at {mount[1]} is not usable: {error}";
            return null;
        }
        reason = $"cgroup v2 {dir} (memory, pids, cpu)";
        return new Cgroups("v2", new() { ["unified"] = dir });
    }

    /// <summary>Creates <paramref name="dir"/> and a probe child in it; with controllers, the probe must show their files.</summary>
    private static bool CanCreateUnder(string dir, out string error, IReadOnlyList<string>? v2Controllers = null)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, "probe-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(probe);
            var missing = (v2Controllers ?? []).Where(c => !File.Exists(Path.Combine(probe, c + ".max"))).ToList();
            Directory.Delete(probe);
            error = missing.Count == 0 ? "" : $"a new group in {dir} lacks {string.Join(", ", missing.Select(c => c + ".max"))}";
            return missing.Count == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    public IReadOnlyList<string> PathsFor(string environmentId) => PathsIn(_bases, environmentId);

    /// <summary>The environment's scorer groups; empty without scorer priority.</summary>
    public IReadOnlyList<string> ScoringPathsFor(string environmentId) => _scoringBases is null ? [] : PathsIn(_scoringBases, environmentId);

    private IReadOnlyList<string> PathsIn(Dictionary<string, string> bases, string environmentId) =>
        Version == "v2" ? [Path.Combine(bases["unified"], environmentId)] : Controllers.Select(c => Path.Combine(bases[c], environmentId)).ToList();

    /// <summary>Creates the environment's cgroups with limits from its resources; returns their directories.</summary>
    public IReadOnlyList<string> Create(string environmentId, ResourceSpec? resources, int pidsMax) =>
        CreateAt(PathsFor(environmentId), resources, pidsMax);

    /// <summary>
    /// Creates the groups the environment's scorer runs join, with the environment's own limits (the scorer is charged
    /// apart from the agent: at most the task's resources twice over while an intermediate score runs beside the
    /// agent's work). Empty without scorer priority: scorers then run in the environment's groups.
    /// </summary>
    public IReadOnlyList<string> CreateScoring(string environmentId, ResourceSpec? resources, int pidsMax) =>
        _scoringBases is null ? [] : CreateAt(ScoringPathsFor(environmentId), resources, pidsMax);

    private IReadOnlyList<string> CreateAt(IReadOnlyList<string> paths, ResourceSpec? resources, int pidsMax)
    {
        foreach (var p in paths) Directory.CreateDirectory(p);
        if (Version == "v2")
        {
            CgroupV2.ApplyLimits(paths[0], resources, pidsMax);
            return paths;
        }
        var (memory, pids, cpu) = (paths[0], paths[1], paths[2]);
        if (resources is { MemoryMb: > 0 })
        {
            var bytes = (resources.MemoryMb * 1024 * 1024).ToString();
            File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), bytes);
            // With swap accounting, the same cap on memory+swap keeps the environment from spilling into swap instead.
            var memsw = Path.Combine(memory, "memory.memsw.limit_in_bytes");
            if (File.Exists(memsw)) File.WriteAllText(memsw, bytes);
        }
        File.WriteAllText(Path.Combine(pids, "pids.max"), pidsMax.ToString());
        if (resources is { Cpus: > 0 })
        {
            File.WriteAllText(Path.Combine(cpu, "cpu.shares"), (resources.Cpus * 1024).ToString());
            // A hard cap as well as the share: n CPUs' worth of time per 100 ms period.
            File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), "100000");
            File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), (resources.Cpus * 100000L).ToString());
        }
        return paths;
    }

    public static IEnumerable<string> ProcsFiles(IEnumerable<string> paths) => paths.Select(p => Path.Combine(p, "cgroup.procs"));

    /// <summary>The OOM-kill counter: v1's <c>memory.oom_control</c> or v2's <c>memory.events</c>, whichever the groups have.</summary>
    public static long OomKills(IEnumerable<string> paths)
    {
        foreach (var p in paths)
        {
            var v1 = Path.Combine(p, "memory.oom_control");
            if (File.Exists(v1)) return Counter(TryRead(v1), "oom_kill");
            var v2 = Path.Combine(p, "memory.events");
            if (File.Exists(v2)) return Counter(TryRead(v2), "oom_kill");
        }
        return 0;
    }

    /// <summary>A <c>key value</c> line of a flat-keyed cgroup file (memory.events, memory.oom_control, pids.events).</summary>
    public static long Counter(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], out var n)) return n;
        }
        return 0;
    }

    public static IReadOnlyList<int> Pids(IEnumerable<string> paths) =>
        paths.SelectMany(p => TryRead(Path.Combine(p, "cgroup.procs")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => int.TryParse(s, out var pid) ? pid : 0).Where(pid => pid > 0).Distinct().ToList();

    /// <summary>
    /// Kills every process in the cgroups until none is left (a fork bomb keeps forking while it is being killed, but
    /// the pids limit bounds it; v2's <c>cgroup.kill</c> kills the whole group at once), then removes the cgroups.
    /// Returns false if something could not be removed in time.
    /// </summary>
    public static bool KillAndRemove(IReadOnlyList<string> paths, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            foreach (var kill in paths.Select(p => Path.Combine(p, "cgroup.kill")).Where(File.Exists))
            {
                try { File.WriteAllText(kill, "1"); } catch (IOException) { /* the group went away meanwhile */ }
            }
            var pids = Pids(paths.Where(Directory.Exists));
            foreach (var pid in pids) _ = Native.Kill(pid, Native.SigKill);
            if (pids.Count == 0)
            {
                var left = paths.Where(Directory.Exists).ToList();
                foreach (var p in left)
                {
                    try { Directory.Delete(p); }
                    catch (IOException) { /* exiting tasks still charged; retried below */ }
                }
                if (!paths.Any(Directory.Exists)) return true;
            }
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(20);
        }
    }

    internal static string TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
