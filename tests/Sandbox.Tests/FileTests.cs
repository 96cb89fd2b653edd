using System.Security.Cryptography;

namespace ReBench.Sandbox.Tests;

public sealed class FileTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Write_then_read_round_trips_with_sha256()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var content = RandomNumberGenerator.GetBytes(10_000);
        var expectedSha = Convert.ToHexStringLower(SHA256.HashData(content));

        var written = await sandbox.Client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "deep/er/data.bin", Content = ByteString.CopyFrom(content),
        });
        Assert.Equal(content.Length, written.Size);
        Assert.Equal(expectedSha, written.Sha256);

        var read = await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "deep/er/data.bin" });
        Assert.Equal(content, read.Content.ToByteArray());
        Assert.Equal(content.Length, read.Size);
        Assert.False(read.Truncated);
        Assert.Equal(expectedSha, read.Sha256);

        var shaInside = await sandbox.Client.RunAsync(env, "sha256sum deep/er/data.bin | cut -d' ' -f1");
        Assert.Equal(expectedSha + "\n", shaInside.Stdout);
    }

    [Fact]
    public async Task Read_honours_max_bytes()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "f.txt", Content = ByteString.CopyFromUtf8("0123456789") });
        var read = await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "f.txt", MaxBytes = 4 });
        Assert.Equal("0123", read.Content.ToStringUtf8());
        Assert.True(read.Truncated);
        Assert.Equal(10, read.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("0123"u8)), read.Sha256);
    }

    [Fact]
    public async Task Executable_flag_makes_a_runnable_file()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "bin/hi.sh", Content = ByteString.CopyFromUtf8("#!/bin/sh\necho hi\n"), Executable = true,
        });
        Assert.Equal("hi\n", (await sandbox.Client.RunAsync(env, "./bin/hi.sh")).Stdout);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../x")]
    [InlineData("a/\0b")]
    public async Task Refuses_paths_that_leave_the_home(string path)
    {
        var env = await sandbox.NewEnvironmentAsync();
        var read = await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains(path.Replace("\0", "\\0"), read.Status.Detail);
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("x") }).ResponseAsync,
            StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Refuses_a_symlink_that_points_out_of_the_home()
    {
        var env = await sandbox.NewEnvironmentAsync();
        Assert.Equal(0, (await sandbox.Client.RunAsync(env, "ln -s /etc etc_link && mkdir -p d && ln -s ../../.. d/up && ln -s d/up/protected p")).Exit.ExitCode);

        foreach (var path in new[] { "etc_link/passwd", "d/up/home/../../x", "p/anything", "d/up" })
        {
            var e = await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, StatusCode.InvalidArgument);
            Assert.Contains(path, e.Status.Detail);
        }
        foreach (var path in new[] { "etc_link/rebench-test", "d/up/rebench-test", "p" })
        {
            var write = await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("x") }).ResponseAsync,
                StatusCode.InvalidArgument);
            Assert.Contains(path, write.Status.Detail);
            Assert.Contains("symlink", write.Status.Detail);
        }
        Assert.False(File.Exists("/etc/rebench-test"));
        // The link written over is still the link: the platform neither followed nor replaced it.
        Assert.Equal("d/up/protected\n", (await sandbox.Client.RunAsync(env, "readlink p")).Stdout);
    }

    /// <summary>
    /// The kernel resolves the path (openat2 with RESOLVE_NO_SYMLINKS), so no symlink is followed, not even one that
    /// stays in the home: following only the harmless ones needs a check by path first, which races with the agent.
    /// </summary>
    [Fact]
    public async Task Refuses_even_a_symlink_that_stays_inside_the_home()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await sandbox.Client.RunAsync(env, "mkdir -p real && echo inside > real/f && ln -s real alias && ln -s real/f flink");
        foreach (var path in new[] { "alias/f", "flink" })
        {
            var e = await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, StatusCode.InvalidArgument);
            Assert.Equal($"path '{path}' leaves the environment or goes through a symlink", e.Status.Detail);
        }
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "alias/g", Content = ByteString.CopyFromUtf8("x") }).ResponseAsync,
            StatusCode.InvalidArgument);
        await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = "alias" }), StatusCode.InvalidArgument);
        // The control: the same file by its real path.
        Assert.Equal("inside\n", (await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "real/f" })).Content.ToStringUtf8());
        Assert.Equal(Path.Combine(sandbox.Root, env, "home", "real") + "\n", (await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = "real" })).Stdout);
    }

    public static TheoryData<string, string, StatusCode> BadPaths => new()
    {
        { "5,000 characters", string.Concat(Enumerable.Repeat("abcd/", 1000)), StatusCode.InvalidArgument },
        { "a component of 300", "dir/" + new string('x', 300), StatusCode.InvalidArgument },
        { "a NUL byte", "a\0b" + new string('y', 3000), StatusCode.InvalidArgument },
        { "absolute", "/" + new string('z', 5000), StatusCode.InvalidArgument },
        { "a '..' component", string.Concat(Enumerable.Repeat("../", 1700)), StatusCode.InvalidArgument },
        { "empty", "", StatusCode.InvalidArgument },
        { "only dots", "./.", StatusCode.InvalidArgument },
    };

    /// <summary>Each answers a clear status with a short message: never INTERNAL, never the whole input echoed back.</summary>
    [Theory]
    [MemberData(nameof(BadPaths))]
    public async Task Bad_paths_get_a_clear_short_answer(string what, string path, StatusCode expected)
    {
        var env = await sandbox.NewEnvironmentAsync();
        var errors = new List<RpcException>
        {
            await SandboxClientExtensions.FailsAsync(() => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, expected),
            await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path, ProtectedArea = true }).ResponseAsync, expected),
            await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("x") }).ResponseAsync, expected),
        };
        if (path.Length > 0 && path != "./.")
        {
            errors.Add(await SandboxClientExtensions.FailsAsync(
                () => sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "pwd", WorkingDir = path }), expected));
        }
        foreach (var e in errors)
        {
            Assert.True(e.Status.Detail.Length is > 10 and < 200, $"{what}: {e.Status.Detail.Length} characters: {e.Status.Detail}");
        }
        Assert.Equal("", (await sandbox.Client.RunAsync(env, "ls -A")).Stdout); // nothing was created, no temporary file left
    }

    [Fact]
    public async Task A_directory_a_fifo_and_a_file_in_the_way_are_clear_errors()
    {
        var env = await sandbox.NewEnvironmentAsync();
        Assert.Equal(0, (await sandbox.Client.RunAsync(env, "mkdir dir && mkfifo fifo && echo x > file")).Exit.ExitCode);
        var read = (string path) => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync;
        var write = (string path) => sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("y") }).ResponseAsync;
        Assert.Contains("is a directory", (await SandboxClientExtensions.FailsAsync(() => read("dir"), StatusCode.InvalidArgument)).Status.Detail);
        Assert.Contains("is a directory", (await SandboxClientExtensions.FailsAsync(() => write("dir"), StatusCode.InvalidArgument)).Status.Detail);
        // A FIFO would block an open for reading until a writer came: refused at once instead.
        Assert.Contains("not a regular file", (await SandboxClientExtensions.FailsAsync(() => read("fifo"), StatusCode.InvalidArgument)).Status.Detail);
        Assert.Contains("not a directory", (await SandboxClientExtensions.FailsAsync(() => write("file/sub"), StatusCode.FailedPrecondition)).Status.Detail);
        Assert.Contains("not a directory", (await SandboxClientExtensions.FailsAsync(() => read("file/sub"), StatusCode.FailedPrecondition)).Status.Detail);
        await SandboxClientExtensions.FailsAsync(() => read("nodir/f"), StatusCode.NotFound);
        Assert.Equal("dir\nfifo\nfile\n", (await sandbox.Client.RunAsync(env, "ls -A")).Stdout);
    }

    [Fact]
    public async Task A_name_of_255_bytes_is_written_and_read()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var name = "d/" + new string('n', 255);
        await sandbox.Client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = name, Content = ByteString.CopyFromUtf8("long") });
        Assert.Equal("long", (await sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = name })).Content.ToStringUtf8());
    }

    [Fact]
    public async Task Missing_file_is_not_found()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var e = await SandboxClientExtensions.FailsAsync(
            () => sandbox.Client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "nope.txt" }).ResponseAsync, StatusCode.NotFound);
        Assert.Contains("nope.txt", e.Status.Detail);
    }
}
