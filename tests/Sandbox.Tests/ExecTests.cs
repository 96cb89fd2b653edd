namespace ReBench.Sandbox.Tests;

public sealed class ExecTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Streams_stdout_in_order_and_reports_the_exit_code()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var result = await sandbox.Client.RunAsync(env, "for i in 1 2 3; do echo line$i; done; exit 7");
        Assert.Equal("line1\nline2\nline3\n", result.Stdout);
        Assert.Equal(7, result.Exit.ExitCode);
        Assert.False(result.Exit.TimedOut);
        Assert.Equal(ExecEvent.EventOneofCase.Exit, result.Events[^1].Event.EventCase);
    }

    [Fact]
    public async Task Keeps_stderr_separate_from_stdout()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var result = await sandbox.Client.RunAsync(env, "echo out; echo err >&2; echo out2");
        Assert.Equal("out\nout2\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Chunks_arrive_before_the_command_ends()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var result = await sandbox.Client.RunAsync(env, "echo a; sleep 2; echo b");
        var first = result.Events.First(e => e.Event.EventCase == ExecEvent.EventOneofCase.Stdout);
        Assert.Equal("a\n", first.Event.Stdout.ToStringUtf8());
        Assert.True(first.At < TimeSpan.FromSeconds(1.5), $"first chunk came after {first.At}");
        Assert.True(result.Events[^1].At >= TimeSpan.FromSeconds(2));
        Assert.Equal("a\nb\n", result.Stdout);
    }

    [Fact]
    public async Task Timeout_kills_the_whole_process_tree()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = "rebench-timeout-" + Guid.NewGuid().ToString("N");
        var clock = Stopwatch.StartNew();
        var result = await sandbox.Client.RunAsync(env, $"(exec -a {marker} sleep 300) & echo started; sleep 60", timeoutSeconds: 1);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.True(result.Exit.TimedOut);
        Assert.Equal(124, result.Exit.ExitCode);
        Assert.Equal("started\n", result.Stdout);
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)), "the backgrounded sleep survived the timeout");
    }

    [Fact]
    public async Task Timeout_also_kills_descendants_that_left_the_process_group()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = "rebench-timeout-setsid-" + Guid.NewGuid().ToString("N");
        var result = await sandbox.Client.RunAsync(env,
            $"setsid bash -c '(exec -a {marker}-a sleep 300) & exec -a {marker}-b sleep 300' & echo started; sleep 60", timeoutSeconds: 2);
        Assert.True(result.Exit.TimedOut);
        Assert.Equal("started\n", result.Stdout);
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)), "a descendant in its own session survived the timeout");
    }

    [Fact]
    public async Task Returns_when_bash_exits_even_if_a_background_child_holds_stdout()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = "rebench-holder-" + Guid.NewGuid().ToString("N");
        var clock = Stopwatch.StartNew();
        var result = await sandbox.Client.RunAsync(env, $"(exec -a {marker} sleep 300) & echo done");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("done\n", result.Stdout);

        await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Output_cap_keeps_head_and_tail_and_reports_the_elided_bytes()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var result = await sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env,
            Command = "printf HEAD; for i in $(seq 50); do head -c 100 /dev/zero | tr '\\0' x; done; printf TAIL; echo small >&2",
            MaxOutputBytes = 1000,
        });
        Assert.Equal(1000, result.Stdout.Length);
        Assert.StartsWith("HEADxxx", result.Stdout);
        Assert.EndsWith("xxxTAIL", result.Stdout);
        Assert.Equal(5008 - 1000, result.Exit.StdoutElidedBytes);
        Assert.Equal("small\n", result.Stderr);
        Assert.Equal(0, result.Exit.StderrElidedBytes);
    }

    [Fact]
    public async Task Runs_in_home_with_HOME_set_and_without_the_protected_area()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
        var result = await sandbox.Client.RunAsync(env, "pwd; echo \"$HOME\"; echo \"[${REBENCH_PROTECTED-unset}]\"");
        Assert.Equal($"{info.HomePath}\n{info.HomePath}\n[unset]\n", result.Stdout);
    }

    [Fact]
    public async Task Honours_working_dir_env_and_stdin()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "sub/keep", Content = ByteString.Empty });
        var result = await sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env,
            Command = "basename \"$PWD\"; echo $GREETING; cat",
            WorkingDir = "sub",
            Env = { ["GREETING"] = "hello" },
            Stdin = ByteString.CopyFromUtf8("from stdin"),
        });
        Assert.Equal("sub\nhello\nfrom stdin", result.Stdout);

        var escape = await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = "../.." }), StatusCode.InvalidArgument);
        Assert.Contains("../..", escape.Status.Detail);
    }

    [Fact]
    public async Task Rejects_an_empty_command()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var e = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(env, "  "), StatusCode.InvalidArgument);
        Assert.Contains("command", e.Status.Detail);
    }

    [Fact]
    public async Task Rejects_a_negative_timeout()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var e = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(env, "true", timeoutSeconds: -5), StatusCode.InvalidArgument);
        Assert.Contains("timeout_seconds", e.Status.Detail);
    }

    [Fact]
    public async Task Unknown_environment_is_not_found()
    {
        var id = "no-such-env-" + Guid.NewGuid().ToString("N");
        await SandboxClientExtensions.FailsAsync(() => sandbox.Client.RunAsync(id, "true"), StatusCode.NotFound);
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = id }).ResponseAsync, StatusCode.NotFound);
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = id, Path = "x" }).ResponseAsync, StatusCode.NotFound);
    }

    [Fact]
    public async Task Stdout_is_raw_bytes()
    {
        var env = await sandbox.NewEnvironmentAsync();
        using var call = sandbox.Client.Exec(new ExecRequest { EnvironmentId = env, Command = "printf '\\xff\\x00\\x01'" });
        var bytes = new List<byte>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == ExecEvent.EventOneofCase.Stdout) bytes.AddRange(e.Stdout);
        }
        Assert.Equal(new byte[] { 0xff, 0x00, 0x01 }, bytes);
    }
}
