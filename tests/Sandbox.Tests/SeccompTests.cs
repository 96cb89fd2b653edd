using SandboxEntryPoint = ReBench.Sandbox.SandboxEntryPoint;

namespace ReBench.Sandbox.Tests;

/// <summary>Namespaces isolation with the system-call filter switched off: the control that shows what the filter refuses.</summary>
public sealed class UnfilteredSandboxFixture() : SandboxFixture(new Dictionary<string, string>
{
    ["Sandbox:Isolation"] = "namespaces",
    ["Sandbox:Seccomp"] = "false",
});

/// <summary>
/// The system-call filter (Sandbox:Seccomp, services/sandbox/Local/Isolation/Native/rebench-seccomp.c) on every path into
/// an isolated environment: Exec, scorer runs, the agent-exec relay, interactive terminals, and the holder itself. Each
/// refusal is checked against the same command in an environment without the filter, where it works.
/// </summary>
public sealed class SeccompTests(IsolatedSandboxFixture sandbox, UnfilteredSandboxFixture unfiltered)
    : IClassFixture<IsolatedSandboxFixture>, IClassFixture<UnfilteredSandboxFixture>
{
    private const string UserNamespaceMount = "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo MOUNTED'";

    /// <summary>
    /// Raw system calls through ctypes, each printed as "name errno-name". The arguments are harmless where a call
    /// gets through (a keyring id lookup, a NULL attribute that faults), so only the filter makes them EPERM.
    /// A clone that gets through exits in the child at once.
    /// </summary>
    private const string Probe = """
        import ctypes, errno, os, platform
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        numbers = {
            "x86_64": dict(keyctl=250, add_key=248, bpf=321, perf_event_open=298, init_module=175, kexec_load=246, mount=165,
                           setns=308, pivot_root=155, clone3=435, clone=56, personality=135, io_uring_setup=425, userfaultfd=323),
            "aarch64": dict(keyctl=219, add_key=217, bpf=280, perf_event_open=241, init_module=105, kexec_load=104, mount=40,
                            setns=268, pivot_root=41, clone3=435, clone=220, personality=92, io_uring_setup=425, userfaultfd=282),
        }[platform.machine()]
        CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
        calls = [
            ("keyctl", "keyctl", [0, -3, 0]),       # KEYCTL_GET_KEYRING_ID of the session keyring
            ("add_key", "add_key", [0, 0, 0, 0, -3]),
            ("bpf", "bpf", [5, 0, 0]),              # BPF_PROG_LOAD, no attributes
            ("perf_event_open", "perf_event_open", [0, 0, -1, -1, 0]),
            ("init_module", "init_module", [0, 0, 0]),
            ("kexec_load", "kexec_load", [0, 0, 0, 0]),
            ("mount", "mount", [0, 0, 0, 0, 0]),
            ("setns", "setns", [-1, 0]),
            ("pivot_root", "pivot_root", [0, 0]),
            ("io_uring_setup", "io_uring_setup", [1, 0]),
            ("userfaultfd", "userfaultfd", [0]),
            ("clone_newuser", "clone", [CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0]),
            ("clone3", "clone3", [0, 0]),
            ("personality_no_randomize", "personality", [0x0040000]),
            ("personality_query", "personality", [0xffffffff]),
        ]
        for name, call, args in calls:
            ctypes.set_errno(0)
            r = libc.syscall(ctypes.c_long(numbers[call]), *[ctypes.c_long(a) for a in args])
            if r == 0 and call == "clone":
                os._exit(0)
            if r > 0 and call == "clone":
                os.waitpid(r, 0)
            print(name, errno.errorcode.get(ctypes.get_errno(), "OK") if r < 0 else "OK", flush=True)
        """;

    private static Dictionary<string, string> Parse(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public async Task Namespaces_mounts_and_kernel_interfaces_are_refused_with_EPERM_and_work_without_the_filter()
    {
        var command = $"echo control-ok; unshare -Ur true; echo \"unshare-user=$?\"; unshare -m true; echo \"unshare-mount=$?\"; {UserNamespaceMount}; " +
            $"python3 -c '{Probe.Replace("'", "'\\''")}'";
        var env = await sandbox.NewEnvironmentAsync();
        var r = await sandbox.Client.RunAsync(env, command, timeoutSeconds: 60);
        Assert.StartsWith("control-ok\nunshare-user=1\nunshare-mount=1\n", r.Stdout);
        Assert.DoesNotContain("MOUNTED", r.Stdout);
        Assert.Contains("unshare failed: Operation not permitted", r.Stderr);
        var calls = Parse(r.Stdout);
        foreach (var call in new[] { "keyctl", "add_key", "bpf", "perf_event_open", "init_module", "kexec_load", "mount", "setns", "pivot_root",
            "io_uring_setup", "userfaultfd", "clone_newuser", "personality_no_randomize" })
        {
            Assert.True(calls.TryGetValue(call, out var result) && result == "EPERM", $"{call}: {result ?? "not run"}\n{r.Stdout}{r.Stderr}");
        }
        Assert.Equal("ENOSYS", calls["clone3"]); // so that glibc falls back to clone, whose flags the filter reads
        Assert.Equal("OK", calls["personality_query"]);

        // The control: the same in an environment without the filter. User namespaces, a mount in one, keyrings and a
        // clone into a new user namespace work there, and the others fail for reasons of their own, not EPERM.
        var open = await unfiltered.NewEnvironmentAsync();
        var u = await unfiltered.Client.RunAsync(open, command, timeoutSeconds: 60);
        Assert.StartsWith("control-ok\nunshare-user=0\n", u.Stdout);
        Assert.Contains("MOUNTED", u.Stdout);
        var control = Parse(u.Stdout);
        Assert.Equal("OK", control["keyctl"]);
        Assert.Equal("OK", control["clone_newuser"]);
        Assert.NotEqual("EPERM", control["perf_event_open"]);
        Assert.NotEqual("ENOSYS", control["clone3"]);
        Assert.Equal("OK", control["personality_no_randomize"]);
    }

    [Fact]
    public async Task Every_process_of_the_environment_runs_under_the_filter_and_calls_of_another_ABI_kill_it()
    {
        var env = await sandbox.NewEnvironmentAsync();
        const string Status = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t' | tr '\\n' ' '";
        var expected = "NoNewPrivs:1 Seccomp:2 ";
        Assert.Equal(expected, (await sandbox.Client.RunAsync(env, Status)).Stdout);
        var scorer = await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = Status, AsScorer = true });
        Assert.Equal(expected, scorer.Stdout);
        var relayed = await sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env, AsScorer = true, TimeoutSeconds = 60,
            Command = $"\"$REBENCH_AGENT_EXEC\" \"{Status}; {UserNamespaceMount}\"",
        });
        Assert.Equal(expected, relayed.Stdout);
        Assert.Contains("Operation not permitted", relayed.Stderr);

        // The holder (bwrap's child, which runs sleep) has it from bwrap's --seccomp.
        var holder = sandbox.HolderPidOf(env);
        var sleeper = (await File.ReadAllTextAsync($"/proc/{holder}/task/{holder}/children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Single();
        Assert.Contains("Seccomp:\t2", await File.ReadAllTextAsync($"/proc/{sleeper}/status"));

        // An x32 call (the x86_64 number with bit 30 set) means another table: no deny list applies, the process dies (SIGSYS).
        if (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            var x32 = await sandbox.Client.RunAsync(env, "python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(39), flush=True); ctypes.CDLL(None).syscall(0x40000000 | 39); print(\"survived\")'; echo \"exit=$?\"");
            Assert.Matches(@"^\d+\nexit=159\n$", x32.Stdout); // getpid answered, then 128 + SIGSYS (31)
        }

        // The control: without the filter neither the Exec nor the holder has one.
        var open = await unfiltered.NewEnvironmentAsync();
        Assert.Equal("NoNewPrivs:1 Seccomp:0 ", (await unfiltered.Client.RunAsync(open, Status)).Stdout);
    }

    [Fact]
    public async Task An_interactive_terminal_runs_under_the_filter()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen { EnvironmentId = env });
        await t.TypeAsync($"{UserNamespaceMount}; echo \"rc=$((40+$?))\"; grep Seccomp: /proc/self/status\n");
        var screen = await t.WaitForAsync("rc=41");
        Assert.Contains("Operation not permitted", screen);
        Assert.DoesNotContain("MOUNTED\r\n", screen);
        await t.WaitForAsync("Seccomp:\t2");
    }

    [Fact]
    [Trait("Category", "Slow")] // torch's import and a rustc build: 10-20 s on the 2-core build machine
    public async Task Ordinary_work_is_unaffected()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var r = await sandbox.Client.RunAsync(env, """
            set -e
            python3 -c 'import numpy; print("numpy", int(numpy.arange(10).sum()))'
            python3 -c 'import torch; print("torch", float(torch.ones(3).sum()))'
            python3 -c 'import threading; out = []; ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]; [t.start() for t in ts]; [t.join() for t in ts]; print("threads", sorted(out) == list(range(8)))'
            python3 -c 'import os, subprocess; pid = os.fork(); os._exit(0) if pid == 0 else print("fork", os.waitpid(pid, 0)[1], subprocess.run(["echo", "exec"], capture_output=True, text=True).stdout.strip())'
            printf 'fn main() { println!("rust {}", 6 * 7); }\n' > hello.rs
            rustc -O -o hello hello.rs && ./hello
            sleep 30 &
            jobs | grep -q 'sleep 30' && echo background-listed
            seq 1 1000 | sort -rn | head -1 | tr 0 x
            """, timeoutSeconds: 300);
        Assert.True(r.Exit.ExitCode == 0, $"exit {r.Exit.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Equal("numpy 45\ntorch 3.0\nthreads True\nfork 0 exec\nrust 42\nbackground-listed\n1xxx\n", r.Stdout);
    }

    [Fact]
    public void Without_its_helper_the_service_refuses_to_start_unless_the_filter_is_switched_off()
    {
        var root = Directory.CreateTempSubdirectory("rebench-seccomp-start-").FullName;
        try
        {
            WebApplicationFactory<SandboxEntryPoint> Service(bool seccomp) => new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
            {
                b.UseSetting("Sandbox:Root", root);
                b.UseSetting("Sandbox:Isolation", "namespaces");
                b.UseSetting("Sandbox:Seccomp", seccomp.ToString());
                b.UseSetting("Sandbox:SeccompHelper", Path.Combine(root, "no-such-helper"));
            });
            using (var refused = Service(seccomp: true))
            {
                var e = Assert.ThrowsAny<Exception>(() => refused.Server);
                var message = string.Join(" | ", Chain(e).Select(x => x.Message));
                Assert.Contains("Sandbox:Seccomp is on but the system-call filter helper", message);
                Assert.Contains("Sandbox:Seccomp=false", message);
            }
            using var allowed = Service(seccomp: false);
            Assert.NotNull(allowed.Server);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }
}
