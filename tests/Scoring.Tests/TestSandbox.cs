using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using ReBench.Sandbox.V1;

namespace ReBench.Scoring.Tests;

/// <summary>Environments of the test sandbox: a home and a protected folder each, under one temp directory.</summary>
public sealed class TestEnvironments : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-sandbox-").FullName;

    public ConcurrentDictionary<string, (string Home, string Protected)> All { get; } = new();

    /// <summary>A new environment with the agent files in its home and the protected files in its protected area.</summary>
    public (string Home, string Protected) Create(string id, string agentFilesDir, string protectedFilesDir)
    {
        var home = Path.Combine(_root, id, "home");
        var protectedDir = Path.Combine(_root, id, "protected");
        CopyFolder(agentFilesDir, home);
        CopyFolder(protectedFilesDir, protectedDir);
        All[id] = (home, protectedDir);
        return (home, protectedDir);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.CreateDirectory(to);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

/// <summary>
/// A small but real Sandbox server: Exec runs `bash -c` in the environment's home, with REBENCH_PROTECTED for scorers,
/// and answers with the real protocol (output chunks, then the exit). The other methods stay unimplemented.
/// </summary>
public sealed class TestSandboxService(TestEnvironments environments) : Sandbox.V1.Sandbox.SandboxBase
{
    public override async Task Exec(ExecRequest request, IServerStreamWriter<ExecEvent> responseStream, ServerCallContext context)
    {
        if (!environments.All.TryGetValue(request.EnvironmentId, out var env))
            throw new RpcException(new Status(StatusCode.NotFound, $"environment {request.EnvironmentId} does not exist"));
        var start = new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { "-c", request.Command },
            WorkingDirectory = env.Home,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["HOME"] = env.Home },
        };
        if (request.AsScorer) start.Environment["REBENCH_PROTECTED"] = env.Protected;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var timedOut = false;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken))
        {
            limit.CancelAfter(TimeSpan.FromSeconds(request.TimeoutSeconds > 0 ? request.TimeoutSeconds : 600));
            try { await process.WaitForExitAsync(limit.Token); }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        await responseStream.WriteAsync(new ExecEvent { Stdout = ByteString.CopyFromUtf8(await stdout) });
        await responseStream.WriteAsync(new ExecEvent { Stderr = ByteString.CopyFromUtf8(await stderr) });
        await responseStream.WriteAsync(new ExecEvent
        {
            Exit = new ExecExit { ExitCode = process.ExitCode, TimedOut = timedOut, DurationMs = clock.ElapsedMilliseconds },
        });
    }
}

/// <summary>Hosts <see cref="TestSandboxService"/> on Kestrel, 127.0.0.1, a free port, HTTP/2 only (h2c).</summary>
public sealed class TestSandboxServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSandboxServer(WebApplication app, string address) => (_app, Address) = (app, address);

    public string Address { get; }

    public static async Task<TestSandboxServer> StartAsync(TestEnvironments environments)
    {
        var port = Testing.TestEnv.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(environments);
        var app = builder.Build();
        app.MapGrpcService<TestSandboxService>();
        await app.StartAsync();
        return new TestSandboxServer(app, $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
