using System.Diagnostics;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// A disk cap as a file system of its own: a sparse ext4 image per environment, loop-mounted on its home, so that
/// writing past the cap fails with ENOSPC ("No space left on device") inside the environment and touches nobody
/// else's space. Images are sparse: they take only what is written (plus the ext4 journal, about 32 MB per GB).
/// </summary>
internal static class DiskImage
{
    public const string FileName = "disk.img";

    /// <summary>Creates <c>dir/disk.img</c> of <paramref name="megabytes"/> and mounts it on <paramref name="mountPoint"/>.</summary>
    public static void CreateAndMount(string dir, string mountPoint, long megabytes)
    {
        var image = Path.Combine(dir, FileName);
        using (var f = new FileStream(image, FileMode.CreateNew, FileAccess.Write)) f.SetLength(megabytes * 1024 * 1024);
        // -m 0: no blocks reserved for root, so the agent gets the whole cap; lazy init keeps mkfs fast on large images.
        Run("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1", image);
        Mount(image, mountPoint);
        var lostFound = Path.Combine(mountPoint, "lost+found");
        if (Directory.Exists(lostFound)) Directory.Delete(lostFound);
    }

    public static void Mount(string image, string mountPoint)
    {
        Directory.CreateDirectory(mountPoint);
        // mount -o loop sets autoclear, so the loop device is released with the last unmount.
        Run("mount", "-o", "loop,nosuid,nodev", image, mountPoint);
    }

    /// <summary>Unmounts every mount at or below <paramref name="dir"/>, deepest first.</summary>
    public static void UnmountUnder(string dir)
    {
        foreach (var mountPoint in MountsUnder(dir).OrderByDescending(m => m.Length))
        {
            // Lazy as a fallback: a process outside our reach holding it must not keep Destroy from finishing.
            if (!TryRun("umount", mountPoint)) TryRun("umount", "-l", mountPoint);
        }
    }

    public static IReadOnlyList<string> MountsUnder(string dir)
    {
        var prefix = dir.TrimEnd('/') + "/";
        return File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' '))
            .Where(p => p.Length > 4)
            .Select(p => Unescape(p[4]))
            .Where(m => m == dir || m.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes.</summary>
    private static string Unescape(string s) =>
        s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    private static void Run(string tool, params string[] args)
    {
        if (!TryRun(tool, args, out var error)) throw new IOException($"{tool} {string.Join(' ', args)} failed: {error}");
    }

    private static bool TryRun(string tool, params string[] args) => TryRun(tool, args, out _);

    private static bool TryRun(string tool, string[] args, out string error)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        error = p.StandardError.ReadToEnd().Trim();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}
