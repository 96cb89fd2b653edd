namespace ReBench.Sandbox.Tests;

public sealed class EnvironmentTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Create_copies_agent_files_and_keeps_protected_files_for_the_scorer()
    {
        var source = Directory.CreateTempSubdirectory("rebench-agent-files-").FullName;
        var protectedSource = Directory.CreateTempSubdirectory("rebench-protected-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(source, "nested"));
            await File.WriteAllTextAsync(Path.Combine(source, "nested", "task.txt"), "do the task");
            await File.WriteAllTextAsync(Path.Combine(protectedSource, "answer.txt"), "42");

            var env = await sandbox.NewEnvironmentAsync(source, protectedSource);
            var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
            Assert.Equal("ready", info.State);
            Assert.Contains(info.Driver, new[] { "local", "local+namespaces" }); // auto: namespaces where the machine allows
            Assert.Equal(Path.Combine(sandbox.Root, env, "home"), info.HomePath);

            Assert.Equal("do the task", (await sandbox.Client.RunAsync(env, "cat nested/task.txt")).Stdout);
            var scorer = await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "cat \"$REBENCH_PROTECTED/answer.txt\"", AsScorer = true });
            Assert.Equal("42", scorer.Stdout);
            var read = await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "answer.txt", ProtectedArea = true });
            Assert.Equal("42", read.Content.ToStringUtf8());
            await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "answer.txt" }).ResponseAsync, StatusCode.NotFound);
        }
        finally
        {
            Directory.Delete(source, true);
            Directory.Delete(protectedSource, true);
        }
    }

    [Fact]
    public async Task Create_is_idempotent_on_the_given_id()
    {
        var id = "attempt-" + Guid.NewGuid().ToString("N");
        var first = await sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest { EnvironmentId = id, TaskId = "t" });
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = id, Path = "marker", Content = Google.Protobuf.ByteString.CopyFromUtf8("m") });
        var second = await sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest { EnvironmentId = id, TaskId = "t" });
        Assert.Equal(first, second);
        Assert.Equal("m", (await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = id, Path = "marker" })).Content.ToStringUtf8());
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("x\0y")]
    public async Task Create_refuses_unsafe_ids(string id)
    {
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest { EnvironmentId = id, TaskId = "t" }).ResponseAsync,
            StatusCode.InvalidArgument);
    }

    [Theory]
    [InlineData("relative/dir")]
    [InlineData("/definitely/not/a/dir")]
    public async Task Create_refuses_a_bad_agent_files_dir(string dir)
    {
        var e = await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest { TaskId = "t", AgentFilesDir = dir }).ResponseAsync,
            StatusCode.InvalidArgument);
        Assert.Contains(dir, e.Status.Detail);
    }

    [Fact]
    public async Task Destroy_kills_background_processes_and_removes_the_directory()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = "rebench-destroy-" + Guid.NewGuid().ToString("N");
        var start = await sandbox.Client.RunAsync(env, $"(exec -a {marker} sleep 300) >/dev/null 2>&1 &");
        Assert.Equal(0, start.Exit.ExitCode);
        Assert.True(Processes.AnyWithMarker(marker), "the background process should still run after its Exec returned");

        var destroyed = await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.True(destroyed.Existed);
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)), "the background sleep survived Destroy");
        Assert.False(Directory.Exists(Path.Combine(sandbox.Root, env)));

        var again = await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.False(again.Existed);
        var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        Assert.Equal("destroyed", info.State);
        await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(env, "true"), StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task Destroy_ends_a_running_exec()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var running = sandbox.Client.RunAsync(env, "sleep 300");
        await Task.Delay(500);
        await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Destroying_an_unknown_environment_reports_it_did_not_exist()
    {
        var result = await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = "never-" + Guid.NewGuid().ToString("N") });
        Assert.False(result.Existed);
    }

    [Fact]
    public async Task Environments_survive_a_service_restart()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.RunAsync(env, "echo persisted > state.txt");

        var restarted = sandbox.StartService();
        var info = await restarted.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        Assert.Equal("ready", info.State);
        Assert.Equal("persisted\n", (await restarted.RunAsync(env, "cat state.txt")).Stdout);
    }
}
