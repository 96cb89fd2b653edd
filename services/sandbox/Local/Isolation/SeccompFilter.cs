using System.Diagnostics;
using System.Text;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// The system-call filter of isolated environments (what it refuses and why: Native/rebench-seccomp.c). Every process
/// that enters an environment does so through <see cref="NamespaceIsolation.WrapExec"/> (Exec, interactive exec, the
/// agent-exec relay, terminal resizes), whose chain runs the helper between nsenter and setpriv; the holder gets the same
/// program through bwrap's <c>--seccomp</c>.
/// <para>
/// Shipping: Sandbox.csproj compiles the helper (one small C file, static) with the build machine's C compiler into the
/// output and publish directories, beside the service's assemblies. So <c>scripts/run.sh</c>, <c>scripts/test.sh</c>
/// and the Docker image get it from the build they already do, and the binary always matches the source it was built
/// with; compiling at service start instead would need a compiler on every host that runs the service. Where the build
/// had no compiler the helper is missing, and the service refuses to start with namespaces isolation unless
/// <c>Sandbox:Seccomp</c> is false: it never runs environments without the filter silently.
/// </para>
/// <para>
/// The helper is not in the environment's file system: the chain opens it on the host side as descriptor 9, and nsenter
/// runs it inside as <c>/proc/self/fd/9</c>; the helper marks every descriptor above 2 close-on-exec before it runs the rest.
/// </para>
/// </summary>
internal sealed class SeccompFilter
{
    public const string HelperName = "rebench-seccomp";
    /// <summary>The descriptor the Exec chain opens the helper on (a shell redirection, so one digit).</summary>
    public const string HelperDescriptor = "9";
    private const string ProgramFileName = ".seccomp-filter.bpf";

    private SeccompFilter(string helperPath, string programFile, int instructions)
    {
        HelperPath = helperPath;
        ProgramFile = programFile;
        Instructions = instructions;
    }

    /// <summary>The helper binary on the host.</summary>
    public string HelperPath { get; }

    /// <summary>The compiled filter (struct sock_filter[]), which the holder's bwrap reads with --seccomp.</summary>
    public string ProgramFile { get; }

    public int Instructions { get; }

    /// <summary>Where Exec chains run the helper from inside the environment (see the class comment).</summary>
    public const string HelperInside = "/proc/self/fd/" + HelperDescriptor;

    /// <summary>The helper in the service's own directory (where the build puts it), or a configured path.</summary>
    public static string DefaultHelperPath => Path.Combine(AppContext.BaseDirectory, HelperName);

    /// <summary>
    /// Checks that the helper runs here and that the kernel accepts its filter, and writes the program for bwrap under
    /// <paramref name="root"/>. Throws with what is wrong and how to fix it.
    /// </summary>
    public static SeccompFilter Load(string? configuredHelper, string root)
    {
        var helper = configuredHelper is { Length: > 0 } c ? c : DefaultHelperPath;
        const string Remedy = "Build services/sandbox with a C compiler installed (Debian packages gcc and libc6-dev; Sandbox.csproj compiles " +
            "Local/Isolation/Native/rebench-seccomp.c), or set Sandbox:Seccomp=false to run isolated environments without a system-call filter";
        if (!File.Exists(helper)) throw new InvalidOperationException($"Sandbox:Seccomp is on but the system-call filter helper {helper} is missing. {Remedy}");

        var (code, program, error) = Run(helper, "print");
        if (code != 0 || program.Length == 0 || program.Length % 8 != 0)
        {
            throw new InvalidOperationException($"Sandbox:Seccomp is on but {helper} print failed (exit {code}, {program.Length} bytes): {error.Trim()}. {Remedy}");
        }
        // Installing it on a process of our own proves the kernel takes it (seccomp filters, this architecture).
        var (installed, _, installError) = Run(helper, "exec", "/bin/true");
        if (installed != 0)
        {
            throw new InvalidOperationException($"Sandbox:Seccomp is on but this kernel refused the system-call filter (exit {installed}): {installError.Trim()}. {Remedy}");
        }
        var file = Path.Combine(root, ProgramFileName);
        var temporary = file + "." + Environment.ProcessId;
        File.WriteAllBytes(temporary, program);
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, file, overwrite: true);
        return new SeccompFilter(helper, file, program.Length / 8);
    }

    private static (int Code, byte[] Stdout, string Stderr) Run(string helper, params string[] args)
    {
        var info = new ProcessStartInfo(helper) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var p = new Process { StartInfo = info };
            using var stdout = new MemoryStream();
            // stderr drained by the process's own reader while stdout (binary) is copied here: no task to block on.
            var error = new StringBuilder();
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.Append(e.Data).Append('\n'); };
            p.Start();
            p.BeginErrorReadLine();
            p.StandardOutput.BaseStream.CopyTo(stdout);
            p.WaitForExit();
            return (p.ExitCode, stdout.ToArray(), error.ToString());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, [], e.Message); // not executable, or built for another architecture
        }
    }
}
