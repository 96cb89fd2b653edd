using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ReBench.Sandbox.Local;

/// <summary>
/// The few file system calls <see cref="EnvironmentFiles"/> makes relative to directory descriptors (Linux, x86-64 and
/// arm64). Every descriptor travels as a <see cref="SafeFileHandle"/>, so none outlives its use or leaks on an error.
/// </summary>
internal static partial class FileNative
{
    private const long SysOpenat2 = 437; // the same number on x86-64 and arm64 (the unified syscall table)

    public const int AtFdCwd = -100;
    public const int AtSymlinkNofollow = 0x100;
    public const int AtEmptyPath = 0x1000;

    public const int ORdonly = 0;
    public const int OWronly = 1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ONoctty = 0x100;
    public const int ONonblock = 0x800;
    public const int OCloexec = 0x80000;
    public const int OPath = 0x200000;
    // The one flag used here whose value differs between the two (arm64: 040000; x86-64: 0200000, O_DIRECT on arm64).
    public static readonly int ODirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;

    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagiclinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;

    /// <summary>Never above the starting directory, never through any symlink or /proc magic link.</summary>
    public const ulong Confined = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagiclinks;

    public const int ENOENT = 2, EAGAIN = 11, EACCES = 13, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21,
        ENFILE = 23, EMFILE = 24, ENOSPC = 28, EROFS = 30, ENAMETOOLONG = 36, ENOSYS = 38, ELOOP = 40, EDQUOT = 122, EPERM = 1, ENXIO = 6;

    public const ushort SIfmt = 0xF000, SIfreg = 0x8000, SIfdir = 0x4000, SIflnk = 0xA000;
    private const uint StatxType = 0x1, StatxSize = 0x200;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>struct statx: 256 bytes; only the fields read here are named.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(40)] public ulong Size;
        public readonly ushort Type => (ushort)(Mode & SIfmt);
    }

    /// <summary>openat2(2): a descriptor, or -errno.</summary>
    public static SafeFileHandle Openat2(SafeFileHandle dir, string path, int flags, int mode, ulong resolve, out int errno)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Mode = (ulong)mode, Resolve = resolve };
        var fd = Syscall(SysOpenat2, dir, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle(checked((IntPtr)(fd < 0 ? -1 : fd)), ownsHandle: true);
    }

    /// <summary>openat2(2) from the current directory (the service's start-up probe and its trusted root).</summary>
    public static SafeFileHandle Openat2(string path, int flags, ulong resolve, out int errno)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Resolve = resolve };
        var fd = Syscall(SysOpenat2, AtFdCwd, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle(checked((IntPtr)(fd < 0 ? -1 : fd)), ownsHandle: true);
    }

    /// <summary>Returns 0 or errno.</summary>
    public static int Mkdirat(SafeFileHandle dir, string name, int mode) =>
        MkdiratNative(dir, name, (uint)mode) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Owner of what <paramref name="file"/> refers to (an O_PATH descriptor included); 0 or errno.</summary>
    public static int Chown(SafeFileHandle file, int uid, int gid) =>
        FchownatNative(file, "", uid, gid, AtEmptyPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Chmod(SafeFileHandle file, int mode) => FchmodNative(file, (uint)mode) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Within one directory descriptor: both names are single components.</summary>
    public static int Renameat(SafeFileHandle dir, string from, string to) =>
        RenameatNative(dir, from, dir, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Unlinkat(SafeFileHandle dir, string name) => UnlinkatNative(dir, name, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>statx(2) of <paramref name="name"/> in <paramref name="dir"/> ("" with AT_EMPTY_PATH: the descriptor itself).</summary>
    public static int Stat(SafeFileHandle dir, string name, int flags, out Statx result) =>
        StatxNative(dir, name, flags, StatxType | StatxSize, out result) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, SafeFileHandle dir, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, int dir, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdiratNative(SafeFileHandle dir, string name, uint mode);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FchownatNative(SafeFileHandle dir, string name, int uid, int gid, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FchmodNative(SafeFileHandle file, uint mode);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameatNative(SafeFileHandle fromDir, string from, SafeFileHandle toDir, string to);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkatNative(SafeFileHandle dir, string name, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxNative(SafeFileHandle dir, string name, int flags, uint mask, out Statx result);
}
