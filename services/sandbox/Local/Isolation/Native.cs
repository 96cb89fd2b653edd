using System.Runtime.InteropServices;

namespace ReBench.Sandbox.Local.Isolation;

internal static class Native
{
    public const int SigKill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    public static extern int Lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    /// <summary>O_PATH | O_DIRECTORY | O_CLOEXEC (x86-64 and arm64 values).</summary>
    public const int OpenDirectoryPath = 0x200000 | 0x10000 | 0x80000;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "geteuid")]
    public static extern uint Geteuid();
}
