namespace ReBench.Sandbox.Tests;

public sealed class IsolationLifecycleTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    [Fact]
    [Trait("Category", "Slow")] // 15-25 s on the 2-core build machine
    public async Task Fifty_create_destroy_cycles_leave_no_process_mount_loop_device_or_cgroup()
    {
        using var llm = new TinyHttpServer("llm");
        var leftovers = new List<string>();
        var all = new List<(string Env, IReadOnlyList<string> Cgroups)>();
        for (var i = 0; i < 50; i++)
        {
            // Every fifth environment has a disk cap (a loop-mounted image) and a memory limit; every fifth (another
            // one) the network permission with an allowed endpoint (the proxy); every tenth open egress (slirp4netns).
            var resources = i % 5 == 0 ? new Resources { DiskMb = 16, MemoryMb = 256, Cpus = 1 } : null;
            var (network, endpoints) = (i % 5, i % 10) switch
            {
                (1, _) => (true, new[] { $"127.0.0.1:{llm.Port}" }),
                (_, 3) => (true, []),
                _ => (false, Array.Empty<string>()),
            };
            var env = await sandbox.NewEnvironmentAsync(resources: resources, network: network, allowedEndpoints: endpoints);
            var cgroups = sandbox.CgroupsOf(env);
            Assert.All(cgroups, c => Assert.True(Directory.Exists(c), c));
            var r = await sandbox.Client.RunAsync(env, "sleep 1000 >/dev/null 2>&1 & setsid sleep 1000 >/dev/null 2>&1 & echo $((6*7)) > f; cat f" +
                (endpoints.Length > 0 ? $"; curl -sS --max-time 20 http://127.0.0.1:{llm.Port}/" : ""), timeoutSeconds: 60);
            Assert.Equal(endpoints.Length > 0 ? "42\nllm" : "42\n", r.Stdout);
            var slirp = sandbox.SlirpPidOf(env);
            await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
            leftovers.AddRange(sandbox.LeftoversOf(env, cgroups).Select(l => $"cycle {i}: {l}"));
            if (slirp > 0 && IsSlirp(slirp)) leftovers.Add($"cycle {i}: slirp4netns {slirp}");
            all.Add((env, cgroups));
        }
        Assert.Empty(leftovers);
        // And nothing came back later (a process that was forking while Destroy ran, say).
        await Task.Delay(500);
        Assert.Empty(all.SelectMany(e => sandbox.LeftoversOf(e.Env, e.Cgroups)));
    }

    private static bool IsSlirp(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains("slirp4netns", StringComparison.Ordinal); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    [Fact]
    public async Task Reports_the_isolation_in_the_driver_and_runs_as_the_agent_user()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        Assert.Equal("local+namespaces", info.Driver);
        var r = await sandbox.Client.RunAsync(env, "id -un; id -Gn; echo $$; hostname; stat -c %U .");
        Assert.Equal("rebench-agent\nrebench-agent\n", string.Join("\n", r.Stdout.Split('\n').Take(2)) + "\n");
        Assert.DoesNotContain("protected", r.Stdout);
        Assert.Equal("rebench", r.Stdout.Split('\n')[3]);
        Assert.Equal("rebench-agent", r.Stdout.Split('\n')[4]);
    }

    [Fact]
    public async Task Uploaded_files_belong_to_the_agent()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "a/b/c.txt", Content = Google.Protobuf.ByteString.CopyFromUtf8("x") });
        var r = await sandbox.Client.RunAsync(env, "echo y >> a/b/c.txt && touch a/b/new && stat -c %U a a/b a/b/c.txt");
        Assert.Equal(0, r.Exit.ExitCode);
        Assert.Equal("rebench-agent\nrebench-agent\nrebench-agent\n", r.Stdout);
    }

    [Fact]
    public async Task A_restarted_service_kills_what_its_predecessor_left_and_the_holder_comes_back()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = "rebench-left-" + Guid.NewGuid().ToString("N");
        await sandbox.Client.RunAsync(env, $"echo kept > kept.txt; (exec -a {marker} sleep 1000) >/dev/null 2>&1 &");
        Assert.True(Processes.AnyWithMarker(marker), "control: the background process runs");

        // A service started on the same root re-adopts the environment from isolation.json, as after a crash of the
        // first: before it serves, what the environment had running is killed (a step cut off by the crash would
        // otherwise run beside its re-run) and recorded; the files stay and a new holder runs the next Exec.
        var restarted = sandbox.StartService();
        Assert.Equal("kept\n", (await restarted.RunAsync(env, "cat kept.txt")).Stdout);
        Assert.False(Processes.AnyWithMarker(marker), "the predecessor's background process survived the re-adoption");
        var recorded = await File.ReadAllTextAsync(Path.Combine(sandbox.Root, env, "leftovers-killed.jsonl"));
        Assert.Contains(marker, recorded);
        Assert.DoesNotContain("/bin/sleep infinity", recorded); // the holder's own frame is not reported as work
        var cgroups = sandbox.CgroupsOf(env);
        await restarted.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.Empty(sandbox.LeftoversOf(env, cgroups));
    }

    [Theory]
    [InlineData(-1, 0, 0, "resources.cpus")]
    [InlineData(0, -5, 0, "resources.memory_mb")]
    [InlineData(0, 0, -1, "resources.disk_mb")]
    [InlineData(100000, 0, 0, "resources.cpus")]
    [InlineData(0, 1L << 40, 0, "resources.memory_mb")]
    [InlineData(0, 0, 1L << 40, "resources.disk_mb")]
    public async Task Refuses_negative_or_absurd_resources(int cpus, long memoryMb, long diskMb, string field)
    {
        var e = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "t", Resources = new Resources { Cpus = cpus, MemoryMb = memoryMb, DiskMb = diskMb },
        }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains(field, e.Status.Detail);
    }

    /// <summary>The task's resources as the kernel's cgroup files hold them, and an Exec's processes inside those groups.</summary>
    [Fact]
    public async Task Memory_cpu_and_pids_limits_are_set_on_the_kernel_and_execs_run_inside_them()
    {
        var env = await sandbox.NewEnvironmentAsync(resources: new Resources { Cpus = 1, MemoryMb = 256 });
        var marker = "rebench-cg-" + Guid.NewGuid().ToString("N");
        await sandbox.Client.RunAsync(env, $"(exec -a {marker} sleep 1000) >/dev/null 2>&1 &");
        var cgroups = sandbox.CgroupsOf(env);
        string Value(string file) => File.ReadAllText(cgroups.Select(c => Path.Combine(c, file)).First(File.Exists)).Trim();
        bool Has(string file) => cgroups.Any(c => File.Exists(Path.Combine(c, file)));
        if (Has("memory.limit_in_bytes"))
        {
            Assert.Equal("268435456", Value("memory.limit_in_bytes"));
            Assert.Equal("1024", Value("cpu.shares"));
            Assert.Equal("100000", Value("cpu.cfs_quota_us"));
        }
        else
        {
            Assert.Equal("268435456", Value("memory.max"));
            Assert.Equal("100000 100000", Value("cpu.max"));
            Assert.Equal("100", Value("cpu.weight"));
        }
        Assert.Equal(IsolatedSandboxFixture.PidsMax.ToString(), Value("pids.max"));

        // The background job may not have exec'd (taken its marker name) yet when the Exec returns: look for a while.
        string? pid = null;
        for (var tries = 0; pid is null && tries < 100; tries++)
        {
            pid = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).FirstOrDefault(d =>
            {
                try { return int.TryParse(d, out _) && File.ReadAllText($"/proc/{d}/cmdline").StartsWith(marker, StringComparison.Ordinal); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; } // ended meanwhile
            });
            if (pid is null) await Task.Delay(100);
        }
        Assert.NotNull(pid);
        Assert.All(cgroups, c => Assert.Contains(pid, File.ReadAllLines(Path.Combine(c, "cgroup.procs"))));
    }

    [Fact]
    public async Task Refuses_nul_bytes_and_empty_commands()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var nul = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(env, "echo a\0b"), StatusCode.InvalidArgument);
        Assert.Contains("NUL", nul.Status.Detail);
        var empty = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(env, ""), StatusCode.InvalidArgument);
        Assert.Contains("command", empty.Status.Detail);
        var dir = await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = "a\0b" }), StatusCode.InvalidArgument);
        Assert.Contains("NUL", dir.Status.Detail);
        var write = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "x\0/etc/passwd", Content = Google.Protobuf.ByteString.CopyFromUtf8("x"),
        }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains("NUL", write.Status.Detail);
    }
}

/// <summary>Sandbox:Isolation=none keeps the original driver: plain directories, commands as the service's user.</summary>
public sealed class UnisolatedSandboxFixture() : SandboxFixture(new Dictionary<string, string> { ["Sandbox:Isolation"] = "none" });

public sealed class NoIsolationTests(UnisolatedSandboxFixture sandbox) : IClassFixture<UnisolatedSandboxFixture>
{
    [Fact]
    public async Task Runs_as_the_service_user_and_reports_the_plain_local_driver()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        Assert.Equal("local", info.Driver);
        var r = await sandbox.Client.RunAsync(env, "id -u; test -e /proc/1/cmdline && echo host-pids-visible");
        Assert.Equal($"{Host.Run("id", "-u").Stdout.Trim()}\nhost-pids-visible\n", r.Stdout);
        Assert.False(File.Exists(Path.Combine(sandbox.Root, env, "isolation.json")));
    }
}
