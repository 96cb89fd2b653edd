namespace ReBench.Sandbox.Tests;

/// <summary>
/// The service writes and reads files for the agent as root while the agent's processes keep running: nothing the
/// agent does to its home meanwhile may redirect a call outside the environment (issue 14: a directory swapped with a
/// symlink to a host directory by renameat2(RENAME_EXCHANGE) in a loop got a root-owned file into the host directory).
/// </summary>
public sealed class FileRaceTests(IsolatedSandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<IsolatedSandboxFixture>
{
    private const int Calls = 10_000;
    private const int Parallel = 4;


    // Swaps d (a directory) and e (a symlink to the host directory) as fast as it can, as the agent, and keeps the
    // number of swaps in a file, so the test can tell that the race really ran.
    private const string SwapLoop = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        n = 0
        while True:
            if libc.renameat2(-100, b"d", -100, b"e", 2) != 0:
                raise OSError(ctypes.get_errno(), "renameat2")
            n += 1
            if n % 1000 == 0:
                with open("swaps.tmp", "w") as f:
                    f.write(str(n))
                os.replace("swaps.tmp", "swaps")
        """;

    [Fact]
    public async Task A_directory_swapped_with_a_symlink_in_a_loop_never_redirects_a_write_or_a_read()
    {
        var host = Directory.CreateTempSubdirectory("rebench-race-host-").FullName;
        var marker = "HOST-SECRET-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(host, "secret"), marker);
        var env = await sandbox.NewEnvironmentAsync();
        try
        {
            await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "swap.py", Content = ByteString.CopyFromUtf8(SwapLoop) });
            var setup = await sandbox.Client.RunAsync(env, $"mkdir d && echo inside > d/secret && ln -s {host} e && " +
                "(nohup python3 swap.py >/dev/null 2>swap.err &) && sleep 0.5 && cat swaps");
            Assert.True(setup.Exit.ExitCode == 0, setup.Stdout + setup.Stderr);

            var clock = Stopwatch.StartNew();
            var writes = new Outcomes();
            var reads = new Outcomes();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, Parallel).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Calls)
                {
                    await writes.RecordAsync(async () => await sandbox.Client.WriteFileAsync(new WriteFileRequest
                    {
                        EnvironmentId = env, Path = $"d/pwn{i}.txt", Content = ByteString.CopyFromUtf8("pwned"),
                    }));
                    await reads.RecordAsync(async () =>
                    {
                        var read = await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "d/secret" });
                        Assert.Equal("inside\n", read.Content.ToStringUtf8());
                    });
                }
            }));
            var elapsed = clock.Elapsed;
            // Stopped first, so that the real directory is counted once.
            var swaps = (await sandbox.Client.RunAsync(env, "pkill -f 'python3 swa[p].py'; sleep 0.2; cat swaps; cat swap.err")).Stdout;
            var inside = (await sandbox.Client.RunAsync(env, "ls -A $(test -L d && echo e || echo d) | grep -c '^pwn'")).Stdout.Trim();
            output.WriteLine($"{Calls} writes and {Calls} reads in {elapsed.TotalSeconds:F1} s, {Parallel} at a time; swaps: {swaps.Trim()}; " +
                $"writes: {writes}; reads: {reads}; pwn files inside: {inside}");

            // Nothing outside: the host directory holds only its own file, and no read returned it.
            Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(host).Select(Path.GetFileName));
            Assert.Equal(marker, await File.ReadAllTextAsync(Path.Combine(host, "secret")));
            Assert.Empty(writes.Unexpected);
            Assert.Empty(reads.Unexpected); // a read of the marker fails its Assert.Equal and lands here
            Assert.Equal(Calls, writes.Succeeded + writes.Refused);
            Assert.Equal(Calls, reads.Succeeded + reads.Refused);
            Assert.Equal(writes.Succeeded.ToString(), inside); // every write that succeeded is in the real directory

            // The control: the loop really swapped throughout, so calls did meet the symlink and were refused for it.
            Assert.True(int.Parse(swaps.Split('\n')[0]) >= 10_000, $"only {swaps} swaps");
            Assert.True(writes.Refused > 100 && writes.Succeeded > 100, $"writes: {writes}");
            Assert.True(reads.Refused > 100 && reads.Succeeded > 100, $"reads: {reads}");
            Assert.True(elapsed < TimeSpan.FromSeconds(60), $"took {elapsed}");
        }
        finally
        {
            await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
            Directory.Delete(host, recursive: true);
        }
    }

    /// <summary>Directories removed and made again under the call: NOT_FOUND or a refusal, never INTERNAL.</summary>
    [Fact]
    public async Task A_path_that_vanishes_mid_operation_is_not_found_never_internal()
    {
        var env = await sandbox.NewEnvironmentAsync();
        try
        {
            var setup = await sandbox.Client.RunAsync(env, "(nohup sh -c 'while true; do mkdir -p v/w; echo x > v/w/f; rm -rf v; done' >/dev/null 2>&1 &)");
            Assert.Equal(0, setup.Exit.ExitCode);
            var writes = new Outcomes();
            var reads = new Outcomes();
            for (var i = 0; i < 1000; i++)
            {
                await writes.RecordAsync(async () => await sandbox.Client.WriteFileAsync(new WriteFileRequest
                {
                    EnvironmentId = env, Path = $"v/w/x/f{i}", Content = ByteString.CopyFromUtf8("x"),
                }));
                await reads.RecordAsync(async () => await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "v/w/f" }));
            }
            output.WriteLine($"writes: {writes}; reads: {reads}");
            Assert.Empty(writes.Unexpected);
            Assert.Empty(reads.Unexpected);
            Assert.True(writes.Codes.GetValueOrDefault(StatusCode.NotFound) + reads.Codes.GetValueOrDefault(StatusCode.NotFound) > 0, $"writes: {writes}; reads: {reads}");
        }
        finally
        {
            await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
        }
    }

    [Fact]
    public async Task Written_files_and_the_directories_made_for_them_belong_to_the_agent_with_todays_modes()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "a/b/plain.txt", Content = ByteString.CopyFromUtf8("x") });
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "a/b/run.sh", Content = ByteString.CopyFromUtf8("x"), Executable = true });
        var r = await sandbox.Client.RunAsync(env, "stat -c '%U:%G %a %n' a a/b a/b/plain.txt a/b/run.sh; ls -A a/b");
        Assert.Equal(
            "rebench-agent:rebench-agent 755 a\nrebench-agent:rebench-agent 755 a/b\nrebench-agent:rebench-agent 644 a/b/plain.txt\n" +
            "rebench-agent:rebench-agent 755 a/b/run.sh\nplain.txt\nrun.sh\n", r.Stdout);
    }

    /// <summary>Counts each call's outcome: success, a clear refusal (the symlink, or a path gone), or anything else.</summary>
    private sealed class Outcomes
    {
        private int _succeeded;
        private int _refused;
        public int Succeeded => _succeeded;
        public int Refused => _refused;
        public System.Collections.Concurrent.ConcurrentDictionary<StatusCode, int> Codes { get; } = new();
        public System.Collections.Concurrent.ConcurrentBag<string> Unexpected { get; } = [];

        public async Task RecordAsync(Func<Task> call)
        {
            try
            {
                await call();
                Interlocked.Increment(ref _succeeded);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound && e.Status.Detail.Length < 200)
            {
                Interlocked.Increment(ref _refused);
                Codes.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
            }
            catch (Exception e)
            {
                Unexpected.Add(e.Message);
            }
        }

        public override string ToString() =>
            $"{Succeeded} succeeded, {Refused} refused ({string.Join(", ", Codes.Select(kv => $"{kv.Key} {kv.Value}"))}), {Unexpected.Count} other" +
            (Unexpected.IsEmpty ? "" : $" (first: {Unexpected.First()})");
    }
}
