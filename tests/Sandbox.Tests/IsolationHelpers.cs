using System.Text.Json;

namespace ReBench.Sandbox.Tests;

/// <summary>The service with Sandbox:Isolation=namespaces (it refuses to start where namespaces do not work) and a small pids cap.</summary>
public sealed class IsolatedSandboxFixture() : SandboxFixture(new Dictionary<string, string>
{
    ["Sandbox:Isolation"] = "namespaces",
    ["Sandbox:PidsMax"] = IsolatedSandboxFixture.PidsMax.ToString(),
})
{
    public const int PidsMax = 128;

    /// <summary>The cgroup directories the driver recorded for an environment (isolation.json beside its home).</summary>
    public IReadOnlyList<string> CgroupsOf(string env) => GroupList(env, "Cgroups");

    /// <summary>The groups the environment's scorer runs join (scorer CPU priority).</summary>
    public IReadOnlyList<string> ScorerCgroupsOf(string env) => GroupList(env, "ScorerCgroups");

    private IReadOnlyList<string> GroupList(string env, string property)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, env, "isolation.json")));
        return doc.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    /// <summary>The environment's slirp4netns (open egress), 0 without one.</summary>
    public int SlirpPidOf(string env)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, env, "isolation.json")));
        return doc.RootElement.TryGetProperty("SlirpPid", out var pid) ? pid.GetInt32() : 0;
    }

    public int HolderPidOf(string env)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, env, "isolation.json")));
        return doc.RootElement.GetProperty("HolderPid").GetInt32();
    }

    /// <summary>Everything an environment could leave behind on the host: processes, mounts, loop devices, cgroups.</summary>
    public IReadOnlyList<string> LeftoversOf(string env, IReadOnlyList<string> cgroups)
    {
        var dir = Path.Combine(Root, env);
        var found = new List<string>();
        found.AddRange(ProcessesMentioning(dir).Select(p => $"process {p}"));
        found.AddRange(File.ReadAllLines("/proc/self/mountinfo").Where(l => l.Contains(dir, StringComparison.Ordinal)).Select(l => $"mount {l}"));
        found.AddRange(Host.Run("losetup", "-a").Stdout.Split('\n').Where(l => l.Contains(dir, StringComparison.Ordinal)).Select(l => $"loop {l}"));
        found.AddRange(cgroups.Where(Directory.Exists).Select(c => $"cgroup {c}"));
        if (Directory.Exists(dir)) found.Add($"directory {dir}");
        return found;
    }

    /// <summary>Processes whose command line or working directory names the path (the holder's bwrap names the home).</summary>
    public static IReadOnlyList<string> ProcessesMentioning(string path) =>
        Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Select(d =>
        {
            try
            {
                var cmd = File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ');
                var cwd = new DirectoryInfo(Path.Combine(d, "cwd")).LinkTarget ?? "";
                var stat = File.ReadAllText(Path.Combine(d, "stat"));
                var zombie = stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
                return !zombie && (cmd.Contains(path, StringComparison.Ordinal) || cwd.StartsWith(path, StringComparison.Ordinal))
                    ? $"{Path.GetFileName(d)} {cmd}" : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        }).OfType<string>().ToList();
}

/// <summary>
/// A network namespace of the test's own, joined to the host by a veth pair on a private /30, with a TCP listener
/// inside that answers "hello". It stands for "a host outside the environment"; nothing leaves this machine.
/// </summary>
public sealed class OutsideHost : IDisposable
{
    private static readonly object NetnsGate = new();
    private static readonly string NetnsLock = Path.Combine(Path.GetTempPath(), "rebench-test-netns.lock");
    private readonly Process _listener;

    public OutsideHost()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        Namespace = "rbt-" + tag;
        HostSide = "rbh" + tag;
        var octet = 16 + Random.Shared.Next(0, 60) * 4;
        Address = $"10.231.{Random.Shared.Next(1, 250)}.{octet + 2}";
        var hostAddress = Address[..Address.LastIndexOf('.')] + "." + (octet + 1);
        // `ip netns add` sets /run/netns up as a shared mount the first time; two at once (test classes run in parallel,
        // and other test processes) can bind over each other's namespace ("Peer netns reference is invalid", seen in
        // CI). One at a time, across processes, through flock(1).
        lock (NetnsGate)
        {
            Host.MustRun("flock", NetnsLock, "ip", "netns", "add", Namespace);
            try
            {
                Host.MustRun("ip", "link", "add", HostSide, "type", "veth", "peer", "name", "rbn" + tag, "netns", Namespace);
            }
            catch
            {
                Host.Run("flock", NetnsLock, "ip", "netns", "del", Namespace); // not left behind by a failed setup
                throw;
            }
        }
        Host.MustRun("ip", "addr", "add", hostAddress + "/30", "dev", HostSide);
        Host.MustRun("ip", "link", "set", HostSide, "up");
        Host.MustRun("ip", "-n", Namespace, "addr", "add", Address + "/30", "dev", "rbn" + tag);
        Host.MustRun("ip", "-n", Namespace, "link", "set", "rbn" + tag, "up");
        Host.MustRun("ip", "-n", Namespace, "link", "set", "lo", "up");
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", Namespace, "/usr/bin/python3", "-c",
            "import socket,sys\ns=socket.socket()\ns.bind(('0.0.0.0',0))\ns.listen(8)\nprint(s.getsockname()[1],flush=True)\n" +
            "while True:\n c,_=s.accept()\n c.sendall(b'hello\\n')\n c.close()\n" }) info.ArgumentList.Add(a);
        _listener = Process.Start(info)!;
        Port = int.Parse(_listener.StandardOutput.ReadLine() ?? throw new InvalidOperationException(_listener.StandardError.ReadToEnd()));
    }

    public string Namespace { get; }
    public string HostSide { get; }
    public string Address { get; }
    public int Port { get; }

    public void Dispose()
    {
        try { _listener.Kill(true); _listener.WaitForExit(5000); } catch (InvalidOperationException) { }
        _listener.Dispose();
        Host.Run("ip", "link", "del", HostSide);
        Host.Run("flock", NetnsLock, "ip", "netns", "del", Namespace);
    }
}
