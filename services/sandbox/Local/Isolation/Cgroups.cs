using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// Per-environment cgroups on the v1 hierarchies (memory, pids, cpu), created under the service's own cgroup in each
/// hierarchy so that whatever limits the service lives under also bound its environments. The kernel here mounts the
/// v1 controllers at /sys/fs/cgroup/{memory,pids,cpu}; its v2 hierarchy (/sys/fs/cgroup/unified) has none of these
/// controllers enabled, so v2 is detected and reported but not driven.
/// </summary>
internal sealed class Cgroups
{
    private const string FsRoot = "/sys/fs/cgroup";
    private static readonly string[] Controllers = ["memory", "pids", "cpu"];
    private readonly Dictionary<string, string> _bases;

    private Cgroups(Dictionary<string, string> bases) => _bases = bases;

    /// <summary>Returns the usable hierarchy, or null with the reason in <paramref name="reason"/>.</summary>
    public static Cgroups? Detect(out string reason)
    {
        var mounts = File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')).Where(p => p.Length > 3).ToList();
        var bases = new Dictionary<string, string>();
        var own = File.ReadAllLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).Where(p => p.Length == 3).ToList();
        foreach (var controller in Controllers)
        {
            var mount = mounts.FirstOrDefault(p => p[2] == "cgroup" && p[3].Split(',').Contains(controller));
            if (mount is null)
            {
                var v2 = mounts.FirstOrDefault(p => p[2] == "cgroup2");
                var enabled = v2 is null ? "" : TryRead(Path.Combine(v2[1], "cgroup.controllers")).Trim();
                reason = $"no cgroup v1 '{controller}' hierarchy is mounted" + (v2 is null ? "" :
                    $"; cgroup v2 at {v2[1]} has controllers [{enabled}], which this driver does not drive yet");
                return null;
            }
            var path = own.FirstOrDefault(p => p[1].Split(',').Contains(controller))?[2] ?? "/";
            var dir = Path.Combine(mount[1], path.TrimStart('/'), "rebench-sandbox");
            try
            {
                Directory.CreateDirectory(dir);
                var probe = Path.Combine(dir, "probe-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(probe);
                Directory.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reason = $"cannot create cgroups under {dir}: {e.Message}";
                return null;
            }
            bases[controller] = dir;
        }
        reason = "cgroup v1 " + string.Join(", ", bases.Select(b => $"{b.Key}={b.Value}"));
        return new Cgroups(bases);
    }

    public IReadOnlyList<string> PathsFor(string environmentId) => Controllers.Select(c => Path.Combine(_bases[c], environmentId)).ToList();

    /// <summary>Creates the environment's cgroups with limits from its resources; returns their directories.</summary>
    public IReadOnlyList<string> Create(string environmentId, ResourceSpec? resources, int pidsMax)
    {
        var paths = PathsFor(environmentId);
        foreach (var p in paths) Directory.CreateDirectory(p);
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

    public static long OomKills(IEnumerable<string> paths)
    {
        var memory = paths.FirstOrDefault(p => p.Contains("/memory/", StringComparison.Ordinal));
        if (memory is null) return 0;
        foreach (var line in TryRead(Path.Combine(memory, "memory.oom_control")).Split('\n'))
        {
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal) && long.TryParse(line[9..], out var n)) return n;
        }
        return 0;
    }

    public static IReadOnlyList<int> Pids(IEnumerable<string> paths) =>
        paths.SelectMany(p => TryRead(Path.Combine(p, "cgroup.procs")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => int.TryParse(s, out var pid) ? pid : 0).Where(pid => pid > 0).Distinct().ToList();

    /// <summary>
    /// Kills every process in the cgroups until none is left (a fork bomb keeps forking while it is being killed, but
    /// the pids limit bounds it), then removes the cgroups. Returns false if something could not be removed in time.
    /// </summary>
    public static bool KillAndRemove(IReadOnlyList<string> paths, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var pids = Pids(paths.Where(Directory.Exists));
            foreach (var pid in pids) Native.Kill(pid, Native.SigKill);
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

    private static string TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
