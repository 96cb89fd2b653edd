namespace ReBench.Sandbox.Tests;

/// <summary>
/// What an agent might try from inside an isolated environment, each contained (README, "Sandbox isolation").
/// Every attack is also checked from the host side: the file, process or listener it aimed at is untouched.
/// </summary>
public sealed partial class AttackTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    private readonly V1.Sandbox.SandboxClient _client = sandbox.Client;
    private readonly IsolatedSandboxFixture _sandbox = sandbox; // for the other part of the class (AttackTests.Network.cs)

    [Fact]
    public async Task Cannot_read_another_environments_files()
    {
        var victim = await _sandbox.NewEnvironmentAsync();
        await _client.RunAsync(victim, "echo victim-secret > secret.txt; chmod 644 secret.txt");
        var victimHome = (await _client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = victim })).HomePath;

        var attacker = await _sandbox.NewEnvironmentAsync();
        var r = await _client.RunAsync(attacker, $"cat '{victimHome}/secret.txt'; ls '{_sandbox.Root}'; ls /proc/*/root/ 2>&1 | grep -c victim-secret; cat /proc/1/root{victimHome}/secret.txt");
        Assert.DoesNotContain("victim-secret", r.Stdout);
        Assert.Contains("No such file or directory", r.Stderr);
        Assert.DoesNotContain(victim, r.Stdout); // the sandbox root lists only the attacker's own directory
    }

    [Fact]
    public async Task Cannot_write_outside_the_home()
    {
        var env = await _sandbox.NewEnvironmentAsync();
        var name = "rebench-escape-" + Guid.NewGuid().ToString("N");
        var envDir = Path.Combine(_sandbox.Root, env);
        var r = await _client.RunAsync(env,
            $"for d in /usr /etc /opt / '{envDir}' '{_sandbox.Root}' /tmp; do touch \"$d/{name}\" && echo \"wrote $d\"; done; true");
        foreach (var dir in new[] { "/usr", "/etc", "/", envDir, _sandbox.Root, "/tmp" })
        {
            Assert.False(File.Exists(Path.Combine(dir, name)), $"{dir}/{name} appeared on the host");
        }
        Assert.Equal("wrote /tmp\n", r.Stdout); // the environment's own private /tmp, not the host's
        Assert.Contains("Read-only file system", r.Stderr);
    }

    [Fact]
    public async Task Cannot_read_the_protected_data_but_the_scorer_can()
    {
        var protectedSource = Directory.CreateTempSubdirectory("rebench-protected-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(protectedSource, "held_out.txt"), "the-answer");
            var env = await _sandbox.NewEnvironmentAsync(protectedFilesDir: protectedSource);
            var info = await _client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
            var agent = await _client.RunAsync(env, $"cat '{info.ProtectedPath}/held_out.txt'; ls '{info.ProtectedPath}'; echo uid=$(id -u)");
            Assert.DoesNotContain("the-answer", agent.Stdout);
            Assert.Contains("Permission denied", agent.Stderr);
            Assert.Matches("uid=[1-9][0-9]*\n", agent.Stdout);

            var scorer = await _client.RunAsync(new ExecRequest
            {
                EnvironmentId = env, Command = "cat \"$REBENCH_PROTECTED/held_out.txt\"; id -Gn", AsScorer = true,
            });
            Assert.StartsWith("the-answer", scorer.Stdout);
            Assert.Contains("protected", scorer.Stdout);
        }
        finally
        {
            Directory.Delete(protectedSource, true);
        }
    }

    [Fact]
    public async Task Only_the_scorer_can_write_the_official_score_log()
    {
        var protectedSource = Directory.CreateTempSubdirectory("rebench-protected-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(protectedSource, "score.log"), "timestamp,score,message,details\n");
            var env = await _sandbox.NewEnvironmentAsync(protectedFilesDir: protectedSource);
            var log = Path.Combine(_sandbox.Root, env, "protected", "score.log");
            var agent = await _client.RunAsync(env,
                $"f='{log}'; echo '2099-01-01T00:00:00,99,{{}},{{}}' >> \"$f\"; echo rc=$?; cat \"$f\"; echo read=$?; rm -f \"$f\" 2>&1; mv \"$f\" x 2>&1; true");
            var scorer = await _client.RunAsync(new ExecRequest
            {
                EnvironmentId = env, AsScorer = true,
                Command = "echo '2026-01-01T00:00:00,1.5,{},{}' >> \"$REBENCH_PROTECTED/score.log\"; echo rc=$?; rm -f \"$REBENCH_PROTECTED/scorer-stray\"; touch \"$REBENCH_PROTECTED/other\" 2>/dev/null; echo other=$?",
            });
            // The agent (not in group protected) can neither append, read, remove nor rename it.
            Assert.Contains("rc=1", agent.Stdout);
            Assert.Contains("read=1", agent.Stdout);
            // The scorer appends to the log, and only to the log: the rest of the protected area stays read-only.
            Assert.Contains("rc=0", scorer.Stdout);
            Assert.Contains("other=1", scorer.Stdout);
            Assert.Equal("timestamp,score,message,details\n2026-01-01T00:00:00,1.5,{},{}\n", await File.ReadAllTextAsync(log));
            Assert.Equal((UnixFileMode)0b110_110_000, File.GetUnixFileMode(log)); // 0660 root:protected
        }
        finally
        {
            Directory.Delete(protectedSource, true);
        }
    }

    [Fact]
    public async Task A_fork_bomb_is_contained_by_the_pids_limit()
    {
        var bystander = await _sandbox.NewEnvironmentAsync();
        var env = await _sandbox.NewEnvironmentAsync();
        var pidsCgroup = _sandbox.CgroupsOf(env).Single(c => c.Contains("/pids/"));
        var bomb = _client.RunAsync(env, "b() { b | b & }; b; sleep 8", timeoutSeconds: 8);
        await Task.Delay(3000);
        var peak = long.Parse(await File.ReadAllTextAsync(Path.Combine(pidsCgroup, "pids.current")));
        // Meanwhile the host and the other environment still run commands.
        Assert.Equal(0, Host.Run("/bin/true").ExitCode);
        Assert.Equal("ok\n", (await _client.RunAsync(bystander, "echo ok")).Stdout);
        await bomb;
        Assert.True(peak <= IsolatedSandboxFixture.PidsMax, $"{peak} tasks in the environment, limit {IsolatedSandboxFixture.PidsMax}");
        Assert.True(long.Parse((await File.ReadAllTextAsync(Path.Combine(pidsCgroup, "pids.events"))).Split(' ')[1]) > 0,
            "the pids limit was never hit, so the bomb did not run");

        var cgroups = _sandbox.CgroupsOf(env);
        await _client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.Empty(_sandbox.LeftoversOf(env, cgroups));
    }

    [Fact]
    public async Task Allocating_past_the_memory_limit_is_killed_and_reported_as_oom()
    {
        var env = await _sandbox.NewEnvironmentAsync(resources: new Resources { MemoryMb = 64 });
        var r = await _client.RunAsync(env, "python3 -c \"x = b'x' * (400 * 1024 * 1024); print('survived')\"", timeoutSeconds: 60);
        Assert.DoesNotContain("survived", r.Stdout);
        Assert.True(r.Exit.OomKilled, $"exit {r.Exit.ExitCode}, stderr {r.Stderr}");
        Assert.Equal(137, r.Exit.ExitCode);
        // Only the command died: the environment (and the service) go on.
        var after = await _client.RunAsync(env, "echo alive");
        Assert.Equal("alive\n", after.Stdout);
        Assert.False(after.Exit.OomKilled);
    }

    [Fact]
    public async Task Filling_the_disk_stops_at_the_cap_with_a_clear_error()
    {
        var env = await _sandbox.NewEnvironmentAsync(resources: new Resources { DiskMb = 32 });
        var r = await _client.RunAsync(env, "head -c 200M /dev/zero > big; echo rc=$?; du -m big | cut -f1", timeoutSeconds: 60);
        Assert.Contains("No space left on device", r.Stderr);
        Assert.Contains("rc=1", r.Stdout);
        Assert.True(int.Parse(r.Stdout.Split('\n')[1]) <= 32, r.Stdout);
        // What the host's disk paid: the blocks of the image, which stays at the cap's size. (Not the host's free space:
        // other processes on this machine write at the same time.)
        var image = Path.Combine(_sandbox.Root, env, "disk.img");
        Assert.Equal(32L * 1024 * 1024, new FileInfo(image).Length);
        var stat = Host.Run("stat", "-c", "%b %B", image).Stdout.Split(' ');
        var allocated = long.Parse(stat[0]) * long.Parse(stat[1]);
        Assert.True(allocated <= 32L * 1024 * 1024, $"the host's disk paid {allocated} bytes for the environment's writes");

        var e = await SandboxClientExtensions.FailsAsync(() => _client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "more.bin", Content = ByteString.CopyFrom(new byte[4 * 1024 * 1024]),
        }).ResponseAsync, StatusCode.ResourceExhausted);
        Assert.Contains("disk", e.Status.Detail);
        // Freeing space makes the environment usable again.
        Assert.Equal(0, (await _client.RunAsync(env, "rm big && echo fine > f")).Exit.ExitCode);
    }

    [Fact]
    public async Task No_background_process_survives_destroy()
    {
        var env = await _sandbox.NewEnvironmentAsync();
        var marker = "rebench-linger-" + Guid.NewGuid().ToString("N");
        var start = await _client.RunAsync(env,
            $"(exec -a {marker}-a sleep 1000) >/dev/null 2>&1 & setsid bash -c '(exec -a {marker}-b sleep 1000) &' >/dev/null 2>&1; " +
            $"nohup bash -c 'trap \"\" TERM HUP; exec -a {marker}-c sleep 1000' >/dev/null 2>&1 &");
        Assert.Equal(0, start.Exit.ExitCode);
        await Task.Delay(300);
        Assert.True(Processes.AnyWithMarker(marker), "the background processes did not start");

        var cgroups = _sandbox.CgroupsOf(env);
        await _client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)), "a background process survived Destroy");
        Assert.Empty(_sandbox.LeftoversOf(env, cgroups));
    }

    [Fact]
    public async Task A_symlink_cannot_carry_an_upload_or_a_read_out_of_the_environment()
    {
        var victim = await _sandbox.NewEnvironmentAsync();
        var victimHome = (await _client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = victim })).HomePath;
        var hostFile = Path.Combine(Path.GetTempPath(), "rebench-host-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(hostFile, "host-original");
        try
        {
            var env = await _sandbox.NewEnvironmentAsync();
            await _client.RunAsync(env, $"ln -s '{hostFile}' host; ln -s '{victimHome}' other; ln -s / root");
            foreach (var path in new[] { "host", "other/planted.txt", "root/etc/rebench-planted" })
            {
                await SandboxClientExtensions.FailsAsync(() => _client.WriteFileAsync(new WriteFileRequest
                {
                    EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("pwned"),
                }).ResponseAsync, StatusCode.InvalidArgument); // no symlink is followed (EnvironmentFiles: RESOLVE_NO_SYMLINKS)
                await SandboxClientExtensions.FailsAsync(
                    () => _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, StatusCode.InvalidArgument);
            }
            Assert.Equal("host-original", await File.ReadAllTextAsync(hostFile));
            Assert.False(File.Exists(Path.Combine(victimHome, "planted.txt")));
            Assert.False(File.Exists("/etc/rebench-planted"));
            // Inside, the same links lead nowhere: the targets are not in the environment's file system.
            var inside = await _client.RunAsync(env, "cat host; ls other/");
            Assert.DoesNotContain("host-original", inside.Stdout);
            Assert.Contains("No such file or directory", inside.Stderr);
        }
        finally
        {
            File.Delete(hostFile);
        }
    }

    [Fact]
    public async Task Cannot_kill_a_platform_process_or_another_environments_process()
    {
        var bystander = await _sandbox.NewEnvironmentAsync();
        var marker = "rebench-bystander-" + Guid.NewGuid().ToString("N");
        await _client.RunAsync(bystander, $"(exec -a {marker} sleep 1000) >/dev/null 2>&1 &");
        var bystanderPid = _sandbox.HolderPidOf(bystander);

        var env = await _sandbox.NewEnvironmentAsync();
        var servicePid = System.Environment.ProcessId; // the service runs in this test process
        var r = await _client.RunAsync(env, $"kill -9 {servicePid}; kill -9 {bystanderPid}; kill -9 1; kill -9 -1; echo done", timeoutSeconds: 20);
        Assert.Contains("No such process", r.Stderr); // the host's pids do not exist in the environment's PID namespace
        Assert.Contains("Operation not permitted", r.Stderr); // its own init belongs to root
        Assert.True(Processes.AnyWithMarker(marker), "the other environment's process was killed");
        Assert.Equal("still here\n", (await _client.RunAsync(bystander, "echo still here")).Stdout);
    }
}
