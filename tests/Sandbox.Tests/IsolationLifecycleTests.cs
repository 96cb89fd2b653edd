using Grpc.Core;
using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Tests;

public sealed class IsolationLifecycleTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    private readonly V1.Sandbox.SandboxClient _client = sandbox.Client;

    [Fact]
    public async Task Fifty_create_destroy_cycles_leave_no_process_mount_loop_device_or_cgroup()
    {
        var leftovers = new List<string>();
        var all = new List<(string Env, IReadOnlyList<string> Cgroups)>();
        for (var i = 0; i < 50; i++)
        {
            // Every fifth environment has a disk cap (a loop-mounted image) and a memory limit.
            var resources = i % 5 == 0 ? new Resources { DiskMb = 16, MemoryMb = 256, Cpus = 1 } : null;
            var env = await sandbox.NewEnvironmentAsync(resources: resources);
            var cgroups = sandbox.CgroupsOf(env);
            Assert.All(cgroups, c => Assert.True(Directory.Exists(c), c));
            var r = await _client.RunAsync(env, "sleep 1000 >/dev/null 2>&1 & setsid sleep 1000 >/dev/null 2>&1 & echo $((6*7)) > f; cat f");
            Assert.Equal("42\n", r.Stdout);
            await _client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
            leftovers.AddRange(sandbox.LeftoversOf(env, cgroups).Select(l => $"cycle {i}: {l}"));
            all.Add((env, cgroups));
        }
        Assert.Empty(leftovers);
        // And nothing came back later (a process that was forking while Destroy ran, say).
        await Task.Delay(500);
        Assert.Empty(all.SelectMany(e => sandbox.LeftoversOf(e.Env, e.Cgroups)));
    }

    [Fact]
    public async Task Reports_the_isolation_in_the_driver_and_runs_as_the_agent_user()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var info = await _client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        Assert.Equal("local+namespaces", info.Driver);
        var r = await _client.RunAsync(env, "id -un; id -Gn; echo $$; hostname; stat -c %U .");
        Assert.Equal("rebench-agent\nrebench-agent\n", string.Join("\n", r.Stdout.Split('\n').Take(2)) + "\n");
        Assert.DoesNotContain("protected", r.Stdout);
        Assert.Equal("rebench", r.Stdout.Split('\n')[3]);
        Assert.Equal("rebench-agent", r.Stdout.Split('\n')[4]);
    }

    [Fact]
    public async Task Uploaded_files_belong_to_the_agent()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await _client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "a/b/c.txt", Content = Google.Protobuf.ByteString.CopyFromUtf8("x") });
        var r = await _client.RunAsync(env, "echo y >> a/b/c.txt && touch a/b/new && stat -c %U a a/b a/b/c.txt");
        Assert.Equal(0, r.Exit.ExitCode);
        Assert.Equal("rebench-agent\nrebench-agent\nrebench-agent\n", r.Stdout);
    }

    [Fact]
    public async Task Background_processes_outlive_their_exec_and_the_holder_comes_back_after_a_restart()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await _client.RunAsync(env, "echo kept > /tmp/t; sleep 1000 >/dev/null 2>&1 &");
        Assert.Equal("kept\n", (await _client.RunAsync(env, "cat /tmp/t")).Stdout);

        // A restarted service finds the environment and its holder from isolation.json.
        var restarted = sandbox.StartService();
        Assert.Equal("kept\n", (await restarted.RunAsync(env, "cat /tmp/t")).Stdout);
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
        var e = await SandboxClientExtensions.FailsAsync(() => _client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "t", Resources = new Resources { Cpus = cpus, MemoryMb = memoryMb, DiskMb = diskMb },
        }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains(field, e.Status.Detail);
    }

    [Fact]
    public async Task Refuses_nul_bytes_and_empty_commands()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var nul = await SandboxClientExtensions.FailsAsync(() => _client.RunAsync(env, "echo a\0b"), StatusCode.InvalidArgument);
        Assert.Contains("NUL", nul.Status.Detail);
        var empty = await SandboxClientExtensions.FailsAsync(() => _client.RunAsync(env, ""), StatusCode.InvalidArgument);
        Assert.Contains("command", empty.Status.Detail);
        var dir = await SandboxClientExtensions.FailsAsync(
            () => _client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = "a\0b" }), StatusCode.InvalidArgument);
        Assert.Contains("NUL", dir.Status.Detail);
        var write = await SandboxClientExtensions.FailsAsync(() => _client.WriteFileAsync(new WriteFileRequest
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
