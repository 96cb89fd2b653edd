using System.Runtime.InteropServices;

namespace ReBench.Sandbox.Local;

/// <summary>Signals process groups directly: Process.Kill(true) walks children but misses reparented grandchildren.</summary>
internal static class ProcessKiller
{
    private const int SigKill = 9;

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>Kills the group led by <paramref name="pgid"/>, and that pid alone in case it has not called setsid yet.</summary>
    public static void KillGroup(int pgid)
    {
        // Either may find nothing (ESRCH): the group or the process is gone already, which is what was wanted.
        _ = Kill(-pgid, SigKill);
        _ = Kill(pgid, SigKill);
    }

    public static bool GroupAlive(int pgid) => Kill(-pgid, 0) == 0;

    /// <summary>Kills what is left in the group of a leader that has exited and been reaped (its pid may be reused; its group id is not while members remain).</summary>
    public static void KillGroupMembers(int pgid) => _ = Kill(-pgid, SigKill);

    /// <summary>
    /// Kills <paramref name="root"/>'s group and every process descending from it, each with its own group: a
    /// descendant that called setsid has left the group but is still in the tree (until its parent dies). Parents
    /// first, so nothing is left to fork replacements.
    /// </summary>
    public static void KillTree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (!children.TryGetValue(ppid, out var list)) children[ppid] = list = [];
                list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
        {
            if (pid != Environment.ProcessId) KillGroup(pid);
            foreach (var child in children.GetValueOrDefault(pid) ?? []) pending.Push(child);
        }
    }

    /// <summary>
    /// Kills processes whose working directory lies under <paramref name="dir"/>: after a service restart the
    /// process groups of earlier Execs are no longer known, and a child may have left its group with setsid.
    /// </summary>
    public static int KillByWorkingDirectory(string dir)
    {
        var prefix = dir.TrimEnd('/') + "/";
        var killed = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId) continue;
            string? cwd;
            try { cwd = new DirectoryInfo(Path.Combine(entry, "cwd")).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (cwd is null || !(cwd + "/").StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (Kill(pid, SigKill) == 0) killed++;
        }
        return killed;
    }
}
