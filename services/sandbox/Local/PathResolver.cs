using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local;

/// <summary>
/// Maps a relative path onto its physical location, following symlinks one component at a time as the kernel
/// does, so that no link (relative, absolute, chained, or containing '..') can lead out of an area unnoticed.
/// </summary>
internal static class PathResolver
{
    private const int MaxLinks = 40; // the kernel's ELOOP limit

    /// <summary>The physical form of an absolute path; components that do not exist yet are kept as given.</summary>
    public static string RealPath(string absolute) => Walk("/", Split(absolute), absolute);

    /// <param name="area">A physical path (see <see cref="RealPath"/>).</param>
    public static string Resolve(string area, string relative, string field = "path")
    {
        var resolved = Walk(area, SandboxNames.SplitRelative(relative, field), relative);
        if (!Inside(area, resolved))
        {
            throw SandboxException.Denied($"{field} '{relative}' resolves to '{resolved}', outside the environment");
        }
        return resolved;
    }

    public static bool Inside(string area, string path) =>
        path == area || path.StartsWith(area.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static string Walk(string start, IEnumerable<string> parts, string shown)
    {
        var current = start;
        var pending = new Stack<string>(parts.Reverse());
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw SandboxException.Invalid($"path '{shown}' has too many levels of symbolic links");
            foreach (var p in Split(target).Reverse()) pending.Push(p);
            if (target.StartsWith('/')) current = "/";
        }
        return current;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
