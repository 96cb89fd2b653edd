using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using ReBench.Sandbox.Environments;
using static ReBench.Sandbox.Local.FileNative;

namespace ReBench.Sandbox.Local;

/// <summary>
/// Every file operation the service does for a caller's path in an environment, done by the kernel relative to a
/// directory descriptor: <c>openat2</c> with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, then
/// mkdirat, fchownat, fchmod and renameat on the descriptors it returned. The service runs as root and the agent owns
/// the home, so a path checked first and used later could be redirected in between (a directory swapped with a
/// symlink to a host directory by renameat2(RENAME_EXCHANGE) in a loop put root-owned files outside the environment).
/// Resolved this way, no component is ever a symlink and nothing leaves the area, however the home changes meanwhile:
/// a swap makes the call fail with a clear status, never land elsewhere.
/// </summary>
internal sealed class EnvironmentFiles : IDisposable
{
    private const int DirectoryMode = 0b111_111_111; // as Directory.CreateDirectory: 0777 less the umask
    private const int FileMode = 0b110_100_100;       // 0644
    private const int ExecutableMode = 0b111_101_101; // 0755
    private const int TemporaryMode = 0b110_000_000;  // 0600 until written, owned and given its final mode

    private readonly SafeFileHandle _root;

    /// <param name="root">The physical Sandbox:Root (the operator's, trusted; environments are <c>root/id</c>).</param>
    public EnvironmentFiles(string root)
    {
        // Fail closed where the kernel has no openat2 (before Linux 5.6, or a container runtime's seccomp profile
        // that predates it): the only other race-free way is to do each operation as the agent user inside the
        // environment's namespaces, a process per file (milliseconds, not microseconds), and an environment without
        // isolation has no such namespace at all. A service that cannot keep files inside environments must not run.
        _root = Openat2(root, OPath | ODirectory | OCloexec, 0, out var errno);
        if (errno is ENOSYS or EPERM)
        {
            _root.Dispose();
            throw new InvalidOperationException(
                "FAILED_PRECONDITION: the kernel has no openat2 (Linux 5.6 or later, and a seccomp profile that allows it, are needed); " +
                "the sandbox service uses it so that no symlink an agent swaps in can redirect the files it writes for the agent outside " +
                "the environment, and refuses to start without it");
        }
        if (errno != 0) throw new IOException($"Sandbox:Root {root} cannot be opened: {Describe(errno)}");
    }

    public void Dispose() => _root.Dispose();

    /// <summary>The physical path of a working directory in the home, once it is known to be one (no symlink on the way).</summary>
    /// <remarks>
    /// Only a check: the Exec changes into the directory by path afterwards, but inside the environment and as the
    /// agent (NamespaceIsolation), so a swap in between leads only where the agent's own process could go anyway.
    /// </remarks>
    public string CheckWorkingDirectory(LocalEnvironment environment, string? workingDir)
    {
        var shown = SandboxNames.Shown(workingDir ?? "");
        var parts = SandboxNames.SplitRelative(workingDir ?? "", "working_dir");
        using var home = OpenArea(environment, FileArea.Home);
        using var dir = Openat2(home, Join(parts), OPath | ODirectory | OCloexec, 0, Confined, out var errno);
        if (errno is ENOENT or ENOTDIR) throw SandboxException.Invalid($"working_dir '{shown}' is not a directory in the home");
        if (errno != 0) throw Failure(errno, "working_dir", shown, "open");
        return parts.Length == 0 ? environment.Home : Path.Combine(environment.Home, Path.Combine(parts));
    }

    public async Task<FileReadResult> ReadAsync(LocalEnvironment environment, string path, FileArea area, long limit, CancellationToken ct)
    {
        var shown = SandboxNames.Shown(path);
        var parts = NonEmpty(SandboxNames.SplitRelative(path), shown);
        using var areaDir = OpenArea(environment, area);
        // O_NONBLOCK: a FIFO the agent left under the name must not hang the service's thread (regular files ignore it).
        using var file = Openat2(areaDir, Join(parts), ORdonly | ONoctty | ONonblock | OCloexec, 0, Confined, out var errno);
        if (errno == ENOENT) throw SandboxException.NotFound($"file '{shown}' does not exist in environment {environment.Id}");
        if (errno == ENXIO) throw SandboxException.Invalid($"path '{shown}' is not a regular file");
        if (errno != 0) throw Failure(errno, "path", shown, "read");
        errno = Stat(file, "", AtEmptyPath, out var stat);
        if (errno != 0) throw Failure(errno, "path", shown, "read");
        if (stat.Type == SIfdir) throw SandboxException.Invalid($"path '{shown}' is a directory");
        if (stat.Type != SIfreg) throw SandboxException.Invalid($"path '{shown}' is not a regular file");

        var size = (long)stat.Size;
        var buffer = new byte[Math.Min(size, limit)];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(file, buffer.AsMemory(read), read, ct);
            if (n == 0) break;
            read += n;
        }
        // The file shrank while it was read (the agent's processes keep running): what was there is the answer.
        if (read < buffer.Length)
        {
            buffer = buffer[..read];
            size = read;
        }
        return new FileReadResult(buffer, size, size > buffer.Length, Convert.ToHexStringLower(SHA256.HashData(buffer)));
    }

    /// <param name="own">Gives a new file or directory to the agent; returns 0 or errno.</param>
    public async Task<FileWriteResult> WriteAsync(LocalEnvironment environment, string path, ReadOnlyMemory<byte> content, bool executable,
        Func<SafeFileHandle, int> own, CancellationToken ct, bool secret = false)
    {
        var shown = SandboxNames.Shown(path);
        var parts = NonEmpty(SandboxNames.SplitRelative(path), shown);
        var name = parts[^1];
        using var home = OpenArea(environment, FileArea.Home);
        using var parent = OpenParent(home, parts[..^1], shown, own);

        // rename() replaces a symlink rather than following it, so this check is for a clear answer, not for safety.
        var errno = Stat(parent, name, AtSymlinkNofollow, out var existing);
        if (errno == 0 && existing.Type == SIfdir) throw SandboxException.Invalid($"path '{shown}' is a directory");
        if (errno == 0 && existing.Type == SIflnk) throw SandboxException.Invalid($"path '{shown}' is a symlink; the platform does not write through symlinks");
        if (errno is not (0 or ENOENT)) throw Failure(errno, "path", shown, "write");

        // Written beside the target and renamed over it, so readers never see a half-written file. A name of fixed
        // length, so a target name of up to 255 bytes still leaves room for it.
        var temporary = $".rebench-{Guid.NewGuid():N}.tmp";
        using (var file = Openat2(parent, temporary, OWronly | OCreat | OExcl | OCloexec, TemporaryMode, Confined, out errno))
        {
            if (errno != 0) throw Failure(errno, "path", shown, "write");
            try
            {
                await RandomAccess.WriteAsync(file, content, 0, ct);
                if ((errno = Chmod(file, secret ? TemporaryMode : executable ? ExecutableMode : FileMode)) != 0 || (errno = own(file)) != 0)
                {
                    throw Failure(errno, "path", shown, "write");
                }
                if ((errno = Renameat(parent, temporary, name)) != 0) throw Failure(errno, "path", shown, "write");
            }
            catch (IOException e) when (e.HResult is ENOSPC or EDQUOT || e.Message.Contains("No space left", StringComparison.Ordinal))
            {
                Unlinkat(parent, temporary);
                throw SandboxException.Exhausted($"environment {environment.Id} is out of disk space (its resources.disk_mb cap)");
            }
            catch
            {
                Unlinkat(parent, temporary);
                throw;
            }
        }
        return new FileWriteResult(content.Length, Convert.ToHexStringLower(SHA256.HashData(content.Span)));
    }

    /// <summary>The area's directory, refused if something replaced it or the environment's directory with a link.</summary>
    private SafeFileHandle OpenArea(LocalEnvironment environment, FileArea area)
    {
        var name = area == FileArea.Protected ? "protected" : "home";
        var dir = Openat2(_root, $"{environment.Id}/{name}", OPath | ODirectory | OCloexec, 0, Confined, out var errno);
        if (errno == 0) return dir;
        dir.Dispose();
        if (errno is ELOOP or EXDEV or ENOTDIR) throw SandboxException.Denied($"the {name} of environment {environment.Id} is no longer a plain directory");
        if (errno == ENOENT) throw SandboxException.NotFound($"environment {environment.Id} has no {name} directory");
        throw Failure(errno, "path", name, "open");
    }

    /// <summary>The directory a written file goes into, created (and given to the agent) where missing.</summary>
    private static SafeFileHandle OpenParent(SafeFileHandle home, string[] dirs, string shown, Func<SafeFileHandle, int> own)
    {
        // The common case, one call: the directory exists.
        var parent = Openat2(home, Join(dirs), OPath | ODirectory | OCloexec, 0, Confined, out var errno);
        if (errno == 0) return parent;
        parent.Dispose();
        if (errno != ENOENT) throw Failure(errno, "path", shown, "write");

        // One component at a time, each opened from the descriptor of the one before: mkdirat then openat2 of the
        // same name, so a directory swapped for a symlink in between is refused (ELOOP), never followed.
        var current = Openat2(home, ".", OPath | ODirectory | OCloexec, 0, Confined, out errno);
        try
        {
            if (errno != 0) throw Failure(errno, "path", shown, "write");
            foreach (var dir in dirs)
            {
                var next = Openat2(current, dir, OPath | ODirectory | OCloexec, 0, Confined, out errno);
                if (errno == ENOENT)
                {
                    next.Dispose();
                    errno = Mkdirat(current, dir, DirectoryMode);
                    if (errno is not (0 or EEXIST)) throw Failure(errno, "path", shown, "write");
                    var created = errno == 0;
                    next = Openat2(current, dir, OPath | ODirectory | OCloexec, 0, Confined, out errno);
                    // Only what this call created changes owner: a directory someone else made keeps theirs.
                    if (errno == 0 && created && (errno = own(next)) != 0) { next.Dispose(); throw Failure(errno, "path", shown, "write"); }
                }
                if (errno != 0) { next.Dispose(); throw Failure(errno, "path", shown, "write"); }
                current.Dispose();
                current = next;
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static string[] NonEmpty(string[] parts, string shown) =>
        parts.Length > 0 ? parts : throw SandboxException.Invalid($"path '{shown}' names no file (it is the area itself)");

    private static string Join(string[] parts) => parts.Length == 0 ? "." : string.Join('/', parts);

    /// <summary>What an errno from a confined operation means to the caller; the path is quoted short.</summary>
    private static Exception Failure(int errno, string field, string shown, string operation) => errno switch
    {
        ELOOP or EXDEV => SandboxException.Invalid($"{field} '{shown}' leaves the environment or goes through a symlink"),
        ENOENT => SandboxException.NotFound($"{field} '{shown}': a directory on the way does not exist (or vanished during the {operation})"),
        ENOTDIR => SandboxException.Precondition($"{field} '{shown}': a component on the way is not a directory"),
        EISDIR => SandboxException.Invalid($"{field} '{shown}' is a directory"),
        ENAMETOOLONG => SandboxException.Invalid($"{field} '{shown}' is too long for the file system"),
        ENOSPC or EDQUOT => SandboxException.Exhausted($"{field} '{shown}': out of disk space (the environment's resources.disk_mb cap)"),
        EMFILE or ENFILE => SandboxException.Exhausted($"the sandbox service is out of file descriptors; retry the {operation}"),
        EACCES or EPERM or EROFS => SandboxException.Denied($"{field} '{shown}': {Describe(errno)}"),
        // RESOLVE_BENEATH could not rule out a rename race on the way: nothing was done, and a retry may succeed.
        EAGAIN => SandboxException.Precondition($"{field} '{shown}' changed during the {operation}; retry"),
        ENOSYS => SandboxException.Precondition("the kernel has no openat2 (Linux 5.6 or later is needed)"),
        _ => new IOException($"{operation} of {field} '{shown}' failed: {Describe(errno)} (errno {errno})"),
    };
}
