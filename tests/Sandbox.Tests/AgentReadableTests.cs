namespace ReBench.Sandbox.Tests;

/// <summary>
/// CreateEnvironment.agent_readable (manifest scoring.agent_readable): the named protected entries are readable and
/// runnable by the agent but not writable, everything else in the protected area stays unreadable (hidden folders
/// unlistable too),
/// and a readable top-level file appears in the home as a link (upstream's /home/agent/score.py).
/// </summary>
public sealed class AgentReadableTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    private static void Write(string dir, string relative, string text, bool executable = false)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (executable) File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    [Fact]
    public async Task The_agent_reads_and_runs_the_readable_files_and_nothing_else_and_writes_none()
    {
        var source = Directory.CreateTempSubdirectory("rebench-protected-").FullName;
        var agentFiles = Directory.CreateTempSubdirectory("rebench-agent-").FullName;
        try
        {
            Write(source, "score.py", "import sys, os\nsys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))\nimport helper\nprint('UNOFFICIAL', helper.VALUE)\n");
            Write(source, "helper.py", "VALUE = 42\n");
            Write(source, "tool.sh", "#!/bin/sh\necho TOOL-RAN\n", executable: true);
            Write(source, "lib/inner.py", "INNER = 1\n");
            Write(source, "lib/deep/more.py", "MORE = 2\n");
            Write(source, "held_out.txt", "the-top-secret");
            Write(source, "data/test.jsonl", "the-nested-secret");
            Write(source, "data/public.txt", "public-data");
            Write(source, "hidden/weights.bin", "the-folder-secret");
            File.CreateSymbolicLink(Path.Combine(source, "link.txt"), "held_out.txt");
            Write(agentFiles, "tool.sh", "#!/bin/sh\necho AGENT-OWN\n", executable: true); // the agent's own file wins over a link

            var env = (await sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest
            {
                TaskId = "test-task", AgentFilesDir = agentFiles, ProtectedFilesDir = source,
                AgentReadable = { "score.py", "helper.py", "tool.sh", "lib/", "data/public.txt", "link.txt", "missing.py" },
            })).EnvironmentId;
            var info = await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env });
            var p = info.ProtectedPath;

            var read = await sandbox.Client.RunAsync(env,
                $"cat '{p}/helper.py'; python3 '{p}/score.py'; python3 score.py; ./tool.sh; '{p}/tool.sh'; cat '{p}/lib/inner.py' '{p}/lib/deep/more.py' '{p}/data/public.txt'; echo");
            Assert.True(read.Exit.ExitCode == 0, read.Stderr);
            Assert.True("VALUE = 42\nUNOFFICIAL 42\nUNOFFICIAL 42\nAGENT-OWN\nTOOL-RAN\nINNER = 1\nMORE = 2\npublic-data\n" == read.Stdout,
                read.Stdout + read.Stderr);

            // The control above read files beside these: the hidden ones fail for their permissions alone.
            var hidden = await sandbox.Client.RunAsync(env,
                $"cat '{p}/held_out.txt'; cat '{p}/data/test.jsonl'; cat '{p}/link.txt'; ls '{p}/hidden'; echo END");
            Assert.Equal("END\n", hidden.Stdout);
            Assert.DoesNotContain("secret", hidden.Stdout + hidden.Stderr);
            Assert.Equal(4, hidden.Stderr.Split('\n').Count(l => l.Contains("Permission denied")));

            var write = await sandbox.Client.RunAsync(env,
                $"echo x >> '{p}/score.py'; echo x >> score.py; rm -f '{p}/helper.py'; chmod 777 '{p}/score.py'; touch '{p}/lib/new.py'; mv '{p}/lib' '{p}/lib2'; echo END");
            Assert.Equal("END\n", write.Stdout);
            var host = Path.Combine(sandbox.Root, env, "protected");
            Assert.StartsWith("import sys", await File.ReadAllTextAsync(Path.Combine(host, "score.py")));
            Assert.DoesNotContain("\nx\n", await File.ReadAllTextAsync(Path.Combine(host, "score.py")));
            Assert.True(File.Exists(Path.Combine(host, "helper.py")));
            Assert.False(File.Exists(Path.Combine(host, "lib", "new.py")));
            Assert.True(Directory.Exists(Path.Combine(host, "lib")));
            Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Path.Combine(host, "score.py")));
            Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(host, "tool.sh")));
            Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(host)); // listable: Python imports from it
            Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(host, "hidden")));
            Assert.Equal((UnixFileMode)0b110_100_000, File.GetUnixFileMode(Path.Combine(host, "held_out.txt")));
            Assert.Equal("../protected/score.py", new FileInfo(Path.Combine(sandbox.Root, env, "home", "score.py")).LinkTarget);
            // No home link for a readable entry that is itself a link, or one that is missing.
            foreach (var name in new[] { "link.txt", "missing.py" })
                Assert.Null(new FileInfo(Path.Combine(sandbox.Root, env, "home", name)).LinkTarget);

            // The scorer still reads everything.
            var scorer = await sandbox.Client.RunAsync(new ExecRequest
            {
                EnvironmentId = env, AsScorer = true, Command = "cat \"$REBENCH_PROTECTED/held_out.txt\" \"$REBENCH_PROTECTED/data/test.jsonl\" \"$REBENCH_PROTECTED/hidden/weights.bin\"",
            });
            Assert.Equal("the-top-secretthe-nested-secretthe-folder-secret", scorer.Stdout);
        }
        finally
        {
            Directory.Delete(source, true);
            Directory.Delete(agentFiles, true);
        }
    }

    [Fact]
    public async Task Without_readable_entries_the_whole_area_stays_hidden()
    {
        var source = Directory.CreateTempSubdirectory("rebench-protected-").FullName;
        try
        {
            Write(source, "score.py", "print('x')\n");
            var env = (await sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest
            {
                TaskId = "test-task", ProtectedFilesDir = source,
            })).EnvironmentId;
            var p = (await sandbox.Client.GetEnvironmentAsync(new GetEnvironmentRequest { EnvironmentId = env })).ProtectedPath;
            var r = await sandbox.Client.RunAsync(env, $"cat '{p}/score.py'; ls score.py; echo END");
            Assert.Equal("END\n", r.Stdout);
            Assert.Contains("Permission denied", r.Stderr);
            Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(sandbox.Root, env, "protected")));
        }
        finally
        {
            Directory.Delete(source, true);
        }
    }

    [Theory]
    [InlineData("../escape", "'..'")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("score.log", "score.log")]
    [InlineData(".rebench/prepared", ".rebench")]
    [InlineData("", "empty entry")]
    public async Task A_bad_entry_is_invalid_argument(string entry, string expected)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await sandbox.Client.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = "test-task", AgentReadable = { entry },
        }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(expected, e.Status.Detail);
    }
}
