namespace ReBench.Sandbox.Local;

internal static class DirectoryCopier
{
    /// <summary>
    /// Copies a tree keeping symlinks as symlinks: following them would pull host files into the environment, while a
    /// copied link is harmless because every file access resolves links against the environment's bounds.
    /// </summary>
    public static void Copy(string source, string destination, CancellationToken ct)
    {
        Directory.CreateDirectory(destination);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            ct.ThrowIfCancellationRequested();
            var target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(target, link);
            else if (entry is DirectoryInfo dir) Copy(dir.FullName, target, ct);
            else if (entry is FileInfo file) file.CopyTo(target); // keeps the mode, so executables stay executable
        }
    }
}
