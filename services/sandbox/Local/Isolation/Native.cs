using System.Runtime.InteropServices;

namespace ReBench.Sandbox.Local.Isolation;

internal static class Native
{
    public const int SigKill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int LchownNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    /// <summary>
    /// Gives a path (not a link's target) its owner; a failure throws, since a file left with the wrong owner is one the
    /// agent or the scorer cannot use, or one it should not have. A path gone meanwhile has no owner to set.
    /// </summary>
    public static void Lchown(string path, int owner, int group)
    {
        const int NoSuchFile = 2; // ENOENT
        if (LchownNative(path, owner, group) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        if (errno != NoSuchFile) throw new IOException($"lchown {path} to {owner}:{group} failed with errno {errno}");
    }

    /// <summary>O_PATH | O_DIRECTORY | O_CLOEXEC (x86-64 and arm64 values).</summary>
    public const int OpenDirectoryPath = 0x200000 | 0x10000 | 0x80000;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "geteuid")]
    public static extern uint Geteuid();
}
