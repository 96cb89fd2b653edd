using System.Diagnostics;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// Network for a task whose permissions allow it, still in the environment's own network namespace: slirp4netns
/// (Debian package slirp4netns) gives the namespace a tap device whose traffic it re-issues as ordinary sockets of the
/// host. With <c>--disable-host-loopback</c> the host's 127.0.0.1 (the platform's PostgreSQL, RabbitMQ and gRPC
/// ports) is refused; the environment's own 127.0.0.1 is its own loopback. No iptables, no bridge, no host sysctl.
/// </summary>
internal static class UserModeNetwork
{
    private const string Tool = "slirp4netns";
    public const string ReadyFile = "slirp-ready.txt";
    public const string ErrorFile = "slirp-stderr.txt";
    public const string ResolvConf = "nameserver 10.0.2.3\n"; // slirp4netns's DNS forwarder (to the host's resolvers)

    public static string? Path => new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" }.Select(d => System.IO.Path.Combine(d, Tool)).FirstOrDefault(File.Exists);

    /// <summary>Starts slirp4netns for the holder's namespace, inside the environment's cgroups; returns its process.</summary>
    public static Process Start(string environmentDir, int holderPid, IReadOnlyList<string> cgroupProcsFiles, string joinCgroupsAndExec)
    {
        var tool = Path ?? throw SandboxException.Precondition("the task's network permission needs slirp4netns (Debian package slirp4netns), which is not installed");
        var ready = System.IO.Path.Combine(environmentDir, ReadyFile);
        var errors = System.IO.Path.Combine(environmentDir, ErrorFile);
        File.Delete(ready);
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        string[] args =
        [
            "/bin/sh", "-c", joinCgroupsAndExec + " 3>\"$READY\" 2>\"$ERR\" </dev/null >/dev/null", "sh",
            cgroupProcsFiles.Count.ToString(), .. cgroupProcsFiles,
            tool, "--configure", "--disable-host-loopback", "--mtu", "65520", "--enable-sandbox", "--enable-seccomp",
            "--ready-fd", "3", holderPid.ToString(), "tap0",
        ];
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        info.Environment["READY"] = ready;
        info.Environment["ERR"] = errors;
        var process = Process.Start(info)!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!(File.Exists(ready) && File.ReadAllText(ready).StartsWith('1')))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                if (!process.HasExited) process.Kill();
                process.Dispose();
                var error = File.Exists(errors) ? File.ReadAllText(errors).Trim() : "";
                throw SandboxException.Precondition($"slirp4netns did not configure the environment's network: {(error.Length > 0 ? error : "no ready signal")}");
            }
            Thread.Sleep(5);
        }
        return process;
    }

    /// <summary>Kills the slirp4netns of a recorded pid, if that pid is still one (pids are recycled).</summary>
    public static void Stop(int pid)
    {
        if (pid <= 0) return;
        try
        {
            if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(Tool, StringComparison.Ordinal)) _ = Native.Kill(pid, Native.SigKill);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
