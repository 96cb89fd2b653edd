using System.Diagnostics;
using System.Text.Json;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// Each environment is a long-lived bubblewrap "holder" (a sleeping process whose PID 1 is bwrap's init) in new
/// mount, PID, IPC, UTS and network namespaces (see NamespaceNetwork.cs), placed in the environment's
/// cgroups. The holder's root is a tmpfs with the base system bound read-only, a private /tmp, /proc and /dev, the
/// home bound writable and the protected area bound read-only, both at their host paths. Each Exec enters the
/// holder's namespaces with nsenter (joining the cgroups first) and drops to the agent user with setpriv, with the
/// protected group added for scorer runs. Background processes therefore outlive their Exec, as without isolation,
/// and die with the holder's PID namespace on Destroy. With <see cref="SeccompFilter"/> (Sandbox:Seccomp, on by default)
/// the chain runs the filter's helper between nsenter and setpriv, and the holder gets the same filter from bwrap.
/// </summary>
internal sealed partial class NamespaceIsolation(SandboxOptions options, AgentAccount account, Cgroups? cgroups, SeccompFilter? seccomp, ILogger logger)
    : IEnvironmentIsolation
{
    private const string StateFile = "isolation.json";
    private const string HolderInfoFile = "holder-info.json";
    private const string HolderErrorFile = "holder-stderr.txt";
    private const string HolderReadyFile = "holder-ready.txt";
    private const string ScoreLogFile = "score.log";
    private const string JoinCgroupsAndExec =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; n=$((n-1)); done; exec \"$@\"";
    // The same, also opening the filter's helper (its path comes first) as the descriptor the chain runs it from.
    private const string JoinCgroupsOpenHelperAndExec = "h=$1; shift; " + JoinCgroupsAndExec + " " + SeccompFilter.HelperDescriptor + "<\"$h\"";

    public string Mode => "namespaces";
    public string DriverName => "local+namespaces";

    public void PrepareHome(string staging, ResourceSpec? resources)
    {
        var home = Path.Combine(staging, "home");
        if (resources is { DiskMb: > 0 }) DiskImage.CreateAndMount(staging, home, resources.DiskMb);
        else Directory.CreateDirectory(home);
    }

    public void Seal(string staging, IReadOnlyList<string[]> agentReadable)
    {
        // Links in the home to the agent-readable files at the top of the protected area (upstream puts score.py in
        // the agent's home): relative, so they survive the rename of the staging folder and resolve the same inside the
        // holder, where home and protected area are bound at their host paths side by side.
        var protectedArea = Path.Combine(staging, "protected");
        foreach (var name in agentReadable.Where(p => p.Length == 1).Select(p => p[0]))
        {
            var target = new FileInfo(Path.Combine(protectedArea, name));
            var link = Path.Combine(staging, "home", name);
            if (target.Exists && target.LinkTarget is null && !Path.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine("..", "protected", name));
            }
        }
        // The agent owns its home; protected files are root:protected, dirs 0750 and files 0640 (0750 if executable),
        // so the agent cannot read them and nobody but root can write them (the score log included).
        OwnTree(Path.Combine(staging, "home"), account.Uid, account.Gid, null, null);
        File.SetUnixFileMode(Path.Combine(staging, "home"), (UnixFileMode)0b111_101_000);
        OwnTree(protectedArea, 0, account.ProtectedGid, (UnixFileMode)0b111_101_000, (UnixFileMode)0b110_100_000);
        OpenToAgent(protectedArea, agentReadable);
        // The official score log is the one protected file the scorer writes: group protected may append to it, the
        // agent (not in the group) can neither read nor write it. It is bound read-write over the read-only area.
        var log = Path.Combine(staging, "protected", ScoreLogFile);
        if (!File.Exists(log)) File.WriteAllBytes(log, []);
        Native.Lchown(log, 0, account.ProtectedGid);
        File.SetUnixFileMode(log, (UnixFileMode)0b110_110_000);
        // The agent-exec relay (Relay/AgentExecRelay.cs): only scorer runs may enter, let alone connect.
        var relay = Path.Combine(staging, Relay.AgentExecRelay.DirectoryName);
        if (Directory.Exists(relay))
        {
            Native.Lchown(relay, 0, account.ProtectedGid);
            File.SetUnixFileMode(relay, (UnixFileMode)0b111_101_000);
        }
    }

    public void Start(LocalEnvironment environment, EnvironmentSpec spec)
    {
        var endpoints = AllowedEndpoint.ForTask(spec.Network, spec.AllowedEndpoints).Select(e => e.ToString()).ToList();
        if (spec.Network && endpoints.Count == 0 && UserModeNetwork.Path is null)
        {
            throw SandboxException.Precondition("the task's network permission needs slirp4netns (Debian package slirp4netns), which is not installed");
        }
        var state = new IsolationState(spec.Network, spec.Resources, cgroups?.Create(environment.Id, spec.Resources, options.PidsMax) ?? [])
        {
            AllowedEndpoints = endpoints,
            ScorerCgroups = cgroups?.CreateScoring(environment.Id, spec.Resources, options.PidsMax) ?? [],
        };
        var handle = new NamespaceHandle(state);
        environment.Isolation = handle;
        StartHolder(environment, handle);
    }

    public void Recover(LocalEnvironment environment)
    {
        var path = Path.Combine(environment.Directory, StateFile);
        if (!File.Exists(path)) return; // created without isolation; it is confined from its next Exec on
        var state = JsonSerializer.Deserialize<IsolationState>(File.ReadAllText(path))!;
        environment.Isolation = new NamespaceHandle(state);
        var image = Path.Combine(environment.Directory, DiskImage.FileName);
        if (File.Exists(image) && DiskImage.MountsUnder(environment.Home).Count == 0) DiskImage.Mount(image, environment.Home);
    }

    public IReadOnlyList<string> KillLeftovers(LocalEnvironment environment)
    {
        if (environment.Isolation is not NamespaceHandle handle) return [];
        lock (handle)
        {
            var groups = handle.State.Cgroups.Concat(handle.State.ScorerCgroups).Where(Directory.Exists).ToList();
            var holder = HolderAlive(environment, handle.State.HolderPid) ? handle.State.HolderPid : 0;
            // The holder and its sleeping child are the environment's frame, not work; everything else is described.
            var frame = holder > 0 ? new HashSet<int>(ProcessInfo.FrameChildrenOf(holder).Append(holder)) : [];
            var pids = Cgroups.Pids(groups).Concat(holder > 0 ? ProcessInfo.InPidNamespaceOf(holder) : []).Distinct().ToList();
            var described = pids.Where(p => !frame.Contains(p)).Select(ProcessInfo.Describe).Where(d => d.Length > 0).ToList();
            // Killing the PID namespace's init takes every process in the namespace with it; the cgroups hold the
            // wrappers outside it (nsenter's parent half). The groups stay: the next Exec starts a new holder in them.
            if (holder > 0) _ = Native.Kill(holder, Native.SigKill);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Cgroups.Pids(groups) is { Count: > 0 } left && DateTime.UtcNow < deadline)
            {
                foreach (var kill in groups.Select(g => Path.Combine(g, "cgroup.kill")).Where(File.Exists))
                {
                    try { File.WriteAllText(kill, "1"); } catch (IOException) { }
                }
                foreach (var pid in left) _ = Native.Kill(pid, Native.SigKill);
                Thread.Sleep(20);
            }
            StopNetwork(handle);
            handle.State = handle.State with { HolderPid = 0 };
            return described;
        }
    }

    /// <summary>Carries an Exec's variables past the privilege drop (see <see cref="WrapExec"/>).</summary>
    private const string ExecEnvironmentVariable = "__REBENCH_EXEC_ENV";

    public void WrapExec(LocalEnvironment environment, ExecSpec spec, ProcessStartInfo info)
    {
        var handle = EnsureHolder(environment);
        var workingDir = info.WorkingDirectory;
        var command = info.ArgumentList[^1];
        info.ArgumentList.Clear();
        // Everything up to setpriv runs as root: it gets a fixed environment and absolute paths. The Exec's own
        // variables (the request's, which the agent-exec relay takes from a scorer) are set only after the drop.
        // They travel in one variable, never on a command line: /proc/PID/cmdline is readable by every process in the
        // environment's PID namespace (the agent's too, while a scorer runs with a judge's key), environ only by the
        // process's own user. Root's tools ignore the variable; the shell after the drop turns it into exports.
        var exports = string.Concat(info.Environment.Where(kv => kv.Value is not null)
            .Select(kv => $"export {kv.Key}='{kv.Value!.Replace("'", "'\\''", StringComparison.Ordinal)}'\n"));
        info.Environment.Clear();
        info.Environment["PATH"] = SystemTools.SafePath;
        info.Environment[ExecEnvironmentVariable] = exports;
        var groups = GroupsOf(handle, spec);
        string[] args =
        [
            "--wait", "/bin/sh", "-c",
            .. seccomp is null ? (string[])[JoinCgroupsAndExec, "sh"] : [JoinCgroupsOpenHelperAndExec, "sh", seccomp.HelperPath],
            groups.Count.ToString(), .. Cgroups.ProcsFiles(groups),
            // Not --wd=DIR: nsenter opens DIR in the host's mount namespace, and a cwd from there is unreachable
            // inside, so getcwd() fails (pwd, rustc: "Current directory is invalid: Permission denied"). Plain --wd
            // takes the holder's cwd (its own /); the cd by path happens inside.
            SystemTools.Nsenter, "-t", handle.State.HolderPid.ToString(), "-m", "-p", "-n", "-i", "-u", "-r", "--wd", "--",
            // The filter after nsenter (which needs setns and chroot), before setpriv, which then runs under it.
            .. seccomp is null ? (string[])[] : [SeccompFilter.HelperInside, "exec"],
            SystemTools.Setpriv, $"--reuid={(spec.AsScorer && !spec.ScorerKeepsAgentUser ? account.ScorerUid : account.Uid)}", $"--regid={account.Gid}",
            spec.AsScorer ? $"--groups={account.ProtectedGid}" : "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            // As env -i did: nothing but the Exec's own variables reaches the command (PATH too is the Exec's or none).
            "/bin/sh", "-c", $"unset PATH; eval \"${ExecEnvironmentVariable}\"; unset {ExecEnvironmentVariable}; cd -- \"$1\" || exit 125; shift; exec \"$@\"",
            "sh", workingDir,
            "/bin/bash", "-c", command,
        ];
        foreach (var a in args) info.ArgumentList.Add(a);
    }

    public long OomKills(LocalEnvironment environment, ExecSpec spec) =>
        environment.Isolation is NamespaceHandle h ? Cgroups.OomKills(GroupsOf(h, spec)) : 0;

    public void EndScoring(LocalEnvironment environment)
    {
        if (environment.Isolation is not NamespaceHandle h) return;
        foreach (var pid in Cgroups.Pids(h.State.ScorerCgroups)) _ = Native.Kill(pid, Native.SigKill);
    }

    /// <summary>A scorer, and the judged code it runs through the relay, joins the scoring groups (CPU priority, same limits) where there are any.</summary>
    private static IReadOnlyList<string> GroupsOf(NamespaceHandle handle, ExecSpec spec) =>
        (spec.AsScorer || spec.ScoringPriority) && handle.State.ScorerCgroups.Count > 0 ? handle.State.ScorerCgroups : handle.State.Cgroups;

    public int OwnAsAgent(Microsoft.Win32.SafeHandles.SafeFileHandle file) => FileNative.Chown(file, account.Uid, account.Gid);

    public void OwnForScorer(string path) => Native.Lchown(path, 0, account.ProtectedGid);

    public void Teardown(LocalEnvironment environment)
    {
        if (environment.Isolation is NamespaceHandle handle)
        {
            lock (handle)
            {
                // Killing the PID namespace's init takes every process in the namespace with it.
                if (HolderAlive(environment, handle.State.HolderPid)) _ = Native.Kill(handle.State.HolderPid, Native.SigKill);
                var cgroupPaths = (handle.State.Cgroups.Count > 0 ? handle.State.Cgroups : cgroups?.PathsFor(environment.Id) ?? [])
                    .Concat(handle.State.ScorerCgroups.Count > 0 ? handle.State.ScorerCgroups : cgroups?.ScoringPathsFor(environment.Id) ?? []).ToList();
                if (!Cgroups.KillAndRemove(cgroupPaths, TimeSpan.FromSeconds(10)))
                {
                    logger.LogWarning("Environment {EnvironmentId}: cgroups {Cgroups} could not be removed", environment.Id, string.Join(",", cgroupPaths));
                }
                StopNetwork(handle);
                handle.Outer?.WaitForExit(5000);
                handle.Outer?.Dispose();
            }
        }
        DiskImage.UnmountUnder(environment.Directory);
    }

    public void Suspend(LocalEnvironment environment) => Teardown(environment);

    public void DiscardStaging(string staging) => DiskImage.UnmountUnder(staging);

    private NamespaceHandle EnsureHolder(LocalEnvironment environment)
    {
        if (environment.Isolation is not NamespaceHandle handle)
        {
            // An environment from before isolation was switched on: confine it from now on.
            Seal(environment.Directory, []); // nothing is known of its task: all of its protected area stays hidden
            Start(environment, new EnvironmentSpec(environment.Id, "", null, null, null, false, new Dictionary<string, string>()));
            return (NamespaceHandle)environment.Isolation!;
        }
        lock (handle)
        {
            if (!HolderAlive(environment, handle.State.HolderPid))
            {
                logger.LogWarning("Environment {EnvironmentId}: holder {Pid} is gone (service restart or OOM); starting a new one", environment.Id, handle.State.HolderPid);
                if (cgroups is not null && handle.State.Cgroups.Concat(handle.State.ScorerCgroups).Any(c => !Directory.Exists(c)))
                {
                    handle.State = handle.State with
                    {
                        Cgroups = cgroups.Create(environment.Id, handle.State.Resources, options.PidsMax),
                        ScorerCgroups = cgroups.CreateScoring(environment.Id, handle.State.Resources, options.PidsMax),
                    };
                }
                StartHolder(environment, handle);
            }
        }
        return handle;
    }

    private void StartHolder(LocalEnvironment environment, NamespaceHandle handle)
    {
        var infoFile = Path.Combine(environment.Directory, HolderInfoFile);
        var errorFile = Path.Combine(environment.Directory, HolderErrorFile);
        var readyFile = Path.Combine(environment.Directory, HolderReadyFile);
        File.Delete(infoFile);
        File.Delete(readyFile);
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        // Redirections in the shell, so the holder keeps none of the service's descriptors or pipes open.
        string[] args =
        [
            "/bin/sh", "-c", JoinCgroupsAndExec + " 3>\"$INFO\" 2>\"$ERR\" </dev/null >\"$READY\"" + (seccomp is null ? "" : " 4<\"$SECCOMP\""), "sh",
            handle.State.Cgroups.Count.ToString(), .. Cgroups.ProcsFiles(handle.State.Cgroups),
            .. BubblewrapArgs(environment, handle.State.OpenEgress),
        ];
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        info.Environment["INFO"] = infoFile;
        info.Environment["ERR"] = errorFile;
        info.Environment["READY"] = readyFile;
        if (seccomp is not null) info.Environment["SECCOMP"] = seccomp.ProgramFile;
        var outer = Process.Start(info)!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        int? pid = null;
        while (pid is null)
        {
            // bwrap writes the pid before it sets up the mounts; the holder's "ready" line comes after all of it.
            if (File.Exists(readyFile) && File.ReadAllText(readyFile).StartsWith("ready", StringComparison.Ordinal)) pid = ReadChildPid(infoFile);
            if (pid is not null) break;
            if (outer.HasExited || DateTime.UtcNow > deadline)
            {
                var error = File.Exists(errorFile) ? File.ReadAllText(errorFile).Trim() : "";
                if (!outer.HasExited) outer.Kill();
                throw SandboxException.Precondition($"the sandbox for environment {environment.Id} did not start: {(error.Length > 0 ? error : "bwrap gave no child pid")}");
            }
            Thread.Sleep(2);
        }
        // The holder's init must not be the OOM killer's pick: its death would end every process of the environment.
        // Lowering it needs CAP_SYS_RESOURCE, which a container may not grant (this build machine does not): then best effort.
        try { File.WriteAllText($"/proc/{pid}/oom_score_adj", "-1000"); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        handle.Outer = outer;
        handle.State = handle.State with { HolderPid = pid.Value };
        try
        {
            StartNetwork(environment, handle);
        }
        catch
        {
            _ = Native.Kill(pid.Value, Native.SigKill);
            StopNetwork(handle);
            throw;
        }
        File.WriteAllText(Path.Combine(environment.Directory, StateFile), JsonSerializer.Serialize(handle.State));
    }

    private IEnumerable<string> BubblewrapArgs(LocalEnvironment environment, bool openEgress)
    {
        // Always a network namespace of its own: only lo, plus the proxied allowed endpoints of a task with the network
        // permission, or slirp4netns's tap0 when it has the permission and no allow-list (NamespaceNetwork.cs).
        var args = new List<string> { "bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--unshare-net", "--hostname", "rebench" };
        args.AddRange(["--cap-drop", "ALL"]);
        // The holder's own processes get the filter too (descriptor 4: StartHolder opens the program file there).
        if (seccomp is not null) args.AddRange(["--seccomp", "4"]);
        foreach (var path in options.ReadOnlyPaths)
        {
            var entry = new FileInfo(path);
            if (entry.LinkTarget is { } target) args.AddRange(["--symlink", target, path]);
            else if (Directory.Exists(path) || File.Exists(path)) args.AddRange(["--ro-bind", path, path]);
        }
        args.AddRange(NetworkFileArgs(environment, openEgress));
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", "/var", "--perms", "1777", "--tmpfs", "/var/tmp"]);
        // GPUs: the device nodes are there; which GPUs a process uses is what CUDA_VISIBLE_DEVICES says.
        if (Directory.Exists("/dev"))
        {
            foreach (var dev in Directory.EnumerateFileSystemEntries("/dev", "nvidia*")) args.AddRange(["--dev-bind-try", dev, dev]);
        }
        var ancestors = new List<string>();
        for (var d = environment.Directory; d != "/" && d.Length > 0; d = Path.GetDirectoryName(d)!) ancestors.Insert(0, d);
        foreach (var d in ancestors.Where(d => d is not "/tmp" and not "/run" and not "/var" and not "/var/tmp")) args.AddRange(["--dir", d]);
        args.AddRange(["--bind", environment.Home, environment.Home, "--ro-bind", environment.Protected, environment.Protected]);
        var log = Path.Combine(environment.Protected, ScoreLogFile);
        if (File.Exists(log)) args.AddRange(["--bind", log, log]);
        // The directory, not the socket: a restarted service listens on a new socket in it and the bind still shows it.
        var relay = Path.Combine(environment.Directory, Relay.AgentExecRelay.DirectoryName);
        if (Directory.Exists(relay)) args.AddRange(["--ro-bind", relay, relay]);
        // chdir to /: with every capability dropped, root cannot enter the agent's 0750 home.
        args.AddRange(["--chdir", "/", "--info-fd", "3", "--", "/bin/sh", "-c", "echo ready; exec /bin/sleep infinity"]);
        return args;
    }

    private static int? ReadChildPid(string infoFile)
    {
        try
        {
            var text = File.ReadAllText(infoFile);
            var at = text.IndexOf("\"child-pid\":", StringComparison.Ordinal);
            if (at < 0) return null;
            var digits = new string(text[(at + 12)..].SkipWhile(char.IsWhiteSpace).TakeWhile(char.IsAsciiDigit).ToArray());
            return int.TryParse(digits, out var pid) && text.Contains('}') ? pid : null;
        }
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>Alive and still ours: a recycled pid would not carry this environment's home in its command line.</summary>
    private static bool HolderAlive(LocalEnvironment environment, int pid)
    {
        if (pid <= 0) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return false;
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(environment.Home + "\0", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Makes the agent-readable entries readable by others (files 0644, 0755 if executable; folders 0755 with all they
    /// hold) and the folders above them, the area's root included, listable (0755). Listable, not merely passable:
    /// Python imports a module only from a folder it can list (importlib's FileFinder), and score.py imports its
    /// neighbours. The agent thus sees the names of the hidden files beside a readable one, never their contents
    /// (they stay 0640, hidden folders 0750). Nobody but root may write any of them. Entries that are missing (operator
    /// assets the deployment mounts) or that are links are left hidden.
    /// </summary>
    private static void OpenToAgent(string area, IReadOnlyList<string[]> agentReadable)
    {
        const UnixFileMode Listable = (UnixFileMode)0b111_101_101, OpenDir = Listable;
        const UnixFileMode OpenFile = (UnixFileMode)0b110_100_100, OpenExecutable = (UnixFileMode)0b111_101_101;
        static void Open(FileSystemInfo entry)
        {
            if (entry.LinkTarget is not null) return;
            if (entry is DirectoryInfo) entry.UnixFileMode = OpenDir;
            else entry.UnixFileMode = (entry.UnixFileMode & UnixFileMode.UserExecute) != 0 ? OpenExecutable : OpenFile;
        }
        foreach (var parts in agentReadable)
        {
            var path = Path.Combine([area, .. parts]);
            var entry = Directory.Exists(path) ? (FileSystemInfo)new DirectoryInfo(path) : new FileInfo(path);
            // Every folder on the way must be a real folder of the area, not a link out of it.
            var above = Enumerable.Range(0, parts.Length).Select(i => Path.Combine([area, .. parts[..i]])).ToList();
            if (!entry.Exists || entry.LinkTarget is not null || above.Any(d => new DirectoryInfo(d).LinkTarget is not null)) continue;
            foreach (var dir in above) File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | Listable);
            Open(entry);
            if (entry is DirectoryInfo folder)
            {
                foreach (var inner in folder.EnumerateFileSystemInfos("*", SearchOption.AllDirectories)) Open(inner);
            }
        }
    }

    private static void OwnTree(string root, int uid, int gid, UnixFileMode? dirMode, UnixFileMode? fileMode)
    {
        Native.Lchown(root, uid, gid);
        if (dirMode is { } dm) File.SetUnixFileMode(root, dm);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            Native.Lchown(entry.FullName, uid, gid);
            if (entry.LinkTarget is not null) continue;
            if (entry is DirectoryInfo && dirMode is { } d) entry.UnixFileMode = d;
            else if (entry is FileInfo && fileMode is { } f)
            {
                entry.UnixFileMode = (entry.UnixFileMode & UnixFileMode.UserExecute) != 0 ? f | UnixFileMode.UserExecute | UnixFileMode.GroupExecute : f;
            }
        }
    }
}

/// <summary>Persisted beside the environment (outside what the sandbox sees), so a restarted service can tear it down.</summary>
internal sealed record IsolationState(bool Network, ResourceSpec? Resources, IReadOnlyList<string> Cgroups, int HolderPid = 0)
{
    /// <summary>host:port entries reachable through the proxy (absent in state files of older versions: none).</summary>
    public IReadOnlyList<string> AllowedEndpoints { get; init; } = [];

    /// <summary>The network permission without an allow-list: everything but the host's loopback, through slirp4netns.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool OpenEgress => Network && AllowedEndpoints.Count == 0;

    /// <summary>The groups scorer runs join (scorer CPU priority); absent in older state files: scorers use <see cref="Cgroups"/>.</summary>
    public IReadOnlyList<string> ScorerCgroups { get; init; } = [];

    /// <summary>The environment's slirp4netns (network permission), so a restarted service can stop it.</summary>
    public int SlirpPid { get; init; }
}

internal sealed class NamespaceHandle(IsolationState state)
{
    public IsolationState State { get; set; } = state;
    public Process? Outer { get; set; }
    public EndpointProxy? Proxy { get; set; }
    public Process? Slirp { get; set; }
}
