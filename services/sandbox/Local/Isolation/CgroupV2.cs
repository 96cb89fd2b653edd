using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// The cgroup v2 specifics: controllers are handed down level by level through <c>cgroup.subtree_control</c>, a group
/// that hands them down may hold no processes itself (except the root), and the limits have their own files.
/// </summary>
public static class CgroupV2
{
    private const string ServiceLeaf = "rebench-sandbox-service";

    /// <summary>
    /// Makes <paramref name="dir"/> (a child of the service's own group <paramref name="parent"/>) able to give the
    /// controllers to environment groups. When the parent holds processes, the kernel refuses to enable controllers
    /// for its children (EBUSY); if the service is the only process there, it moves itself into a leaf beside the
    /// environments first (the systemd "Delegate=yes" pattern). Returns null when done, else why not.
    /// </summary>
    public static string? Prepare(string parent, string dir, IReadOnlyList<string> controllers)
    {
        var available = Words(Cgroups.TryRead(Path.Combine(parent, "cgroup.controllers")));
        var missing = controllers.Where(c => !available.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            return $"the service's group {parent} offers controllers [{string.Join(' ', available)}], not {string.Join(", ", missing)}" +
                " (a controller mounted as cgroup v1 is not available in v2)";
        }
        var enable = string.Join(' ', controllers.Select(c => "+" + c));
        if (!Enabled(parent, controllers))
        {
            var error = TryWrite(Path.Combine(parent, "cgroup.subtree_control"), enable);
            if (error is not null && OnlyProcessIsUs(parent))
            {
                var leaf = Path.Combine(parent, ServiceLeaf);
                try { Directory.CreateDirectory(leaf); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"cannot create {leaf}: {e.Message}"; }
                error = TryWrite(Path.Combine(leaf, "cgroup.procs"), Environment.ProcessId.ToString())
                    ?? TryWrite(Path.Combine(parent, "cgroup.subtree_control"), enable);
            }
            if (error is not null)
            {
                return $"cannot enable {enable} in {parent}/cgroup.subtree_control: {error} (a group that hands controllers down may hold " +
                    "no processes; run the service in a delegated group of its own)";
            }
        }
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"cannot create {dir}: {e.Message}"; }
        if (!Enabled(dir, controllers) && TryWrite(Path.Combine(dir, "cgroup.subtree_control"), enable) is { } dirError)
        {
            return $"cannot enable {enable} in {dir}/cgroup.subtree_control: {dirError}";
        }
        return null;
    }

    /// <summary>
    /// The v2 equivalents of the v1 limits: <c>memory.max</c> (and no swap, as v1's memsw cap), <c>pids.max</c>,
    /// <c>cpu.max</c> (n CPUs' worth of time per 100 ms) and <c>cpu.weight</c> (100 per CPU, as cpu.shares 1024 per CPU).
    /// </summary>
    public static void ApplyLimits(string dir, ResourceSpec? resources, int pidsMax)
    {
        if (resources is { MemoryMb: > 0 })
        {
            File.WriteAllText(Path.Combine(dir, "memory.max"), (resources.MemoryMb * 1024 * 1024).ToString());
            var swap = Path.Combine(dir, "memory.swap.max");
            if (File.Exists(swap)) File.WriteAllText(swap, "0");
        }
        File.WriteAllText(Path.Combine(dir, "pids.max"), pidsMax.ToString());
        if (resources is { Cpus: > 0 })
        {
            File.WriteAllText(Path.Combine(dir, "cpu.max"), $"{resources.Cpus * 100000L} 100000");
            File.WriteAllText(Path.Combine(dir, "cpu.weight"), Math.Clamp(resources.Cpus * 100L, 1, 10000).ToString());
        }
    }

    private static bool Enabled(string group, IEnumerable<string> controllers)
    {
        var enabled = Words(Cgroups.TryRead(Path.Combine(group, "cgroup.subtree_control")));
        return controllers.All(enabled.Contains);
    }

    private static bool OnlyProcessIsUs(string group) =>
        Cgroups.Pids([group]) is [var only] && only == Environment.ProcessId;

    private static string? TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    private static HashSet<string> Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet();
}
