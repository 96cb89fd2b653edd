using System.Diagnostics;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>Chooses the isolation for <c>Sandbox:Isolation</c> = auto | namespaces | none by probing this machine.</summary>
internal static class IsolationSelector
{
    public static IEnvironmentIsolation Create(SandboxOptions options, ILogger logger)
    {
        var requested = (options.Isolation ?? "auto").Trim().ToLowerInvariant();
        if (requested is not ("auto" or "namespaces" or "none"))
        {
            throw new InvalidOperationException($"Sandbox:Isolation '{options.Isolation}' is not one of auto, namespaces, none");
        }
        if (requested == "none")
        {
            logger.LogWarning("Sandbox isolation: none (configured). Commands run as the service's user with no confinement");
            return new NoIsolation();
        }
        var missing = WhyNotNamespaces(options.ReadOnlyPaths);
        if (missing is not null)
        {
            if (requested == "namespaces") throw new InvalidOperationException($"Sandbox:Isolation is 'namespaces' but {missing}");
            logger.LogWarning("Sandbox isolation: none, because {Reason}. Commands run as the service's user with no confinement", missing);
            return new NoIsolation();
        }
        var cgroups = Cgroups.Detect(options.Cgroups, out var cgroupReason);
        if (cgroups is null && !string.Equals((options.Cgroups ?? "auto").Trim(), "auto", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Sandbox:Cgroups is '{options.Cgroups}' but {cgroupReason}");
        }
        if (cgroups is not null && options.ScoringCpuWeight > 0)
        {
            cgroups = cgroups.WithScoringPriority(options.ScoringCpuWeight, out var scoringReason);
            if (cgroups.ScoringPriority) cgroupReason += "; " + scoringReason;
            else logger.LogWarning("Sandbox isolation: scorer runs share the environment's cgroups (no CPU priority): {Reason}", scoringReason);
        }
        // Before anything is created for the agent: with the filter on and no working helper, the service does not start.
        var seccomp = options.Seccomp ? SeccompFilter.Load(options.SeccompHelper, options.Root) : null;
        var account = AgentAccount.Ensure(options.AgentUser, options.ProtectedGroup, options.ScorerUser);
        if (seccomp is null)
        {
            logger.LogWarning("Sandbox isolation: NO system-call filter (Sandbox:Seccomp=false): agents can create user namespaces and mount file systems in them");
        }
        if (cgroups is null) logger.LogWarning("Sandbox isolation: resource limits are NOT enforced: {Reason}", cgroupReason);
        logger.LogInformation(
            "Sandbox isolation: namespaces (bubblewrap; mount, pid, ipc, uts and network namespaces; user {User} uid {Uid}, group {Group} gid {Gid}; {Cgroups}; {Seccomp})",
            account.User, account.Uid, account.ProtectedGroup, account.ProtectedGid, cgroups is null ? "no cgroups" : cgroupReason,
            seccomp is null ? "no system-call filter" : $"system-call filter {seccomp.HelperPath}, {seccomp.Instructions} instructions");
        if (PtraceScope() is not (>= 1))
        {
            // Agent and scorer runs share a user (the scorer has one more group), and the kernel lets a process
            // ptrace or read the memory of any dumpable process of its user unless Yama restricts it.
            logger.LogWarning("Sandbox isolation: kernel.yama.ptrace_scope is {Scope}: an agent's process can attach to a scorer " +
                "run of its environment that has not made itself non-dumpable. Set kernel.yama.ptrace_scope=1 (or 2) on this host",
                PtraceScope()?.ToString() ?? "absent (no Yama)");
        }
        return new NamespaceIsolation(options, account, cgroups, seccomp, logger);
    }

    private static int? PtraceScope()
    {
        try { return int.TryParse(File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim(), out var n) ? n : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Null when namespaces work here; otherwise what is missing, with the error seen.</summary>
    private static string? WhyNotNamespaces(IReadOnlyList<string> readOnlyPaths)
    {
        if (!OperatingSystem.IsLinux()) return "this is not Linux";
        if (Native.Geteuid() != 0) return "the service does not run as root (it must create namespaces, cgroups and mounts and switch users)";
        foreach (var tool in new[] { "bwrap", "nsenter", "setpriv" })
        {
            if (Which(tool) is null) return $"'{tool}' is not installed (Debian packages bubblewrap, util-linux)";
        }
        // The base system only, as environments get it: binding / recursively would copy every mount of the host, and
        // one that goes away meanwhile (another environment's disk image being moved or unmounted) fails the probe.
        var probe = new ProcessStartInfo("bwrap") { RedirectStandardError = true, RedirectStandardOutput = true };
        var args = new List<string> { "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts" };
        foreach (var path in readOnlyPaths)
        {
            var entry = new FileInfo(path);
            if (entry.LinkTarget is { } target) args.AddRange(["--symlink", target, path]);
            else if (Directory.Exists(path) || File.Exists(path)) args.AddRange(["--ro-bind", path, path]);
        }
        args.AddRange(["--proc", "/proc", "/bin/sh", "-c", "true"]);
        foreach (var a in args) probe.ArgumentList.Add(a);
        using var p = Process.Start(probe)!;
        var error = p.StandardError.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode == 0 ? null : $"bwrap cannot create namespaces here (exit {p.ExitCode}): {error}";
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/usr/bin"]).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
