using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Tests;

public sealed class FileTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private readonly V1.Sandbox.SandboxClient _client = sandbox.Client;

    [Fact]
    public async Task Write_then_read_round_trips_with_sha256()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var content = RandomNumberGenerator.GetBytes(10_000);
        var expectedSha = Convert.ToHexStringLower(SHA256.HashData(content));

        var written = await _client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "deep/er/data.bin", Content = ByteString.CopyFrom(content),
        });
        Assert.Equal(content.Length, written.Size);
        Assert.Equal(expectedSha, written.Sha256);

        var read = await _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "deep/er/data.bin" });
        Assert.Equal(content, read.Content.ToByteArray());
        Assert.Equal(content.Length, read.Size);
        Assert.False(read.Truncated);
        Assert.Equal(expectedSha, read.Sha256);

        var shaInside = await _client.RunAsync(env, "sha256sum deep/er/data.bin | cut -d' ' -f1");
        Assert.Equal(expectedSha + "\n", shaInside.Stdout);
    }

    [Fact]
    public async Task Read_honours_max_bytes()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await _client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "f.txt", Content = ByteString.CopyFromUtf8("0123456789") });
        var read = await _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "f.txt", MaxBytes = 4 });
        Assert.Equal("0123", read.Content.ToStringUtf8());
        Assert.True(read.Truncated);
        Assert.Equal(10, read.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("0123"u8)), read.Sha256);
    }

    [Fact]
    public async Task Executable_flag_makes_a_runnable_file()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await _client.WriteFileAsync(new WriteFileRequest
        {
            EnvironmentId = env, Path = "bin/hi.sh", Content = ByteString.CopyFromUtf8("#!/bin/sh\necho hi\n"), Executable = true,
        });
        Assert.Equal("hi\n", (await _client.RunAsync(env, "./bin/hi.sh")).Stdout);
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
            () => _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains(path.Replace("\0", "\\0"), read.Status.Detail);
        await SandboxClientExtensions.FailsAsync(
            () => _client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8("x") }).ResponseAsync,
            StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Refuses_a_symlink_that_points_out_of_the_home()
    {
        var env = await sandbox.NewEnvironmentAsync();
        Assert.Equal(0, (await _client.RunAsync(env, "ln -s /etc etc_link && mkdir -p d && ln -s ../../.. d/up && ln -s d/up/protected p")).Exit.ExitCode);

        foreach (var path in new[] { "etc_link/passwd", "d/up/home/../../x", "p/anything" })
        {
            var e = await SandboxClientExtensions.FailsAsync(
                () => _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = path }).ResponseAsync,
                path.Contains("..") ? StatusCode.InvalidArgument : StatusCode.PermissionDenied);
            Assert.Contains(path, e.Status.Detail);
        }
        var write = await SandboxClientExtensions.FailsAsync(
            () => _client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = "etc_link/rebench-test", Content = ByteString.CopyFromUtf8("x") }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Contains("etc_link/rebench-test", write.Status.Detail);
        Assert.False(File.Exists("/etc/rebench-test"));
    }

    [Fact]
    public async Task Follows_a_symlink_that_stays_inside_the_home()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await _client.RunAsync(env, "mkdir -p real && echo inside > real/f && ln -s real alias");
        var read = await _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "alias/f" });
        Assert.Equal("inside\n", read.Content.ToStringUtf8());
    }

    [Fact]
    public async Task Missing_file_is_not_found()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var e = await SandboxClientExtensions.FailsAsync(
            () => _client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = "nope.txt" }).ResponseAsync, StatusCode.NotFound);
        Assert.Contains("nope.txt", e.Status.Detail);
    }
}
