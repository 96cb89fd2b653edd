using Microsoft.Extensions.DependencyInjection;
using ReBench.Sandbox.V1;
using ReBench.Scoring.Submissions;
using ReBench.Sandbox;

namespace ReBench.Tasks.Tests;

/// <summary>
/// A bundle's scorer as the platform runs it with isolation on: the real sandbox service (bubblewrap namespaces,
/// the agent user, the task's cgroup limits) on a loopback port, and the scoring service's own SubmissionScorer
/// calling it over gRPC. The environment is created with the variant's resources, as the orchestrator does.
/// </summary>
public sealed class IsolatedScoring : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-isolated-").FullName;
    private readonly List<WebApplication> _apps = [];
    private IServiceProvider _scoring = null!;

    public Sandbox.V1.Sandbox.SandboxClient Sandbox { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var sandboxPort = TestEnv.FreePort();
        var sandbox = await StartAsync("sandbox", sandboxPort, new()
        {
            ["Sandbox:Root"] = Path.Combine(_root, "sandbox"), ["Sandbox:Isolation"] = "namespaces",
        }, b => b.AddSandbox(), a => a.MapSandbox());
        var scoring = await StartAsync("scoring", TestEnv.FreePort(), new()
        {
            ["Scoring:TasksRoot"] = Path.Combine(TestEnv.RepoRoot, "tasks"), ["Services:Sandbox"] = $"http://127.0.0.1:{sandboxPort}",
        }, b => b.AddScoring(), a => a.MapScoring());
        _scoring = scoring.Services;
        Sandbox = _scoring.GetRequiredService<Sandbox.V1.Sandbox.SandboxClient>();
    }

    /// <summary>A fresh environment of the variant (its resources), prepared by scoring, with the reference written in when asked.</summary>
    public async Task<string> NewEnvironmentAsync(TaskVariant task, bool reference)
    {
        var r = task.Resources;
        var env = await Sandbox.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = task.TaskId, AgentFilesDir = task.Folders.Agent, ProtectedFilesDir = task.Folders.Scoring, Network = task.Network,
            Resources = new Resources { Cpus = r.Cpus, MemoryMb = r.MemoryMb, DiskMb = r.DiskMb },
        });
        Assert.Equal("local+namespaces", env.Driver);
        await _scoring.GetRequiredService<SubmissionScorer>().PrepareAsync("attempt-" + env.EnvironmentId, env.EnvironmentId, task, CancellationToken.None);
        if (reference)
        {
            foreach (var (relative, full) in BundleDigest.Files(task.Folders.Reference))
            {
                await Sandbox.WriteFileAsync(new WriteFileRequest
                {
                    EnvironmentId = env.EnvironmentId, Path = relative, Content = ByteString.CopyFrom(await File.ReadAllBytesAsync(full)),
                });
            }
        }
        return env.EnvironmentId;
    }

    public Task<ScoreOutcome> ScoreAsync(string environmentId, TaskVariant task) =>
        _scoring.GetRequiredService<SubmissionScorer>().ScoreAsync("attempt-" + environmentId, environmentId, task, CancellationToken.None);

    /// <summary>A command as the scorer runs it (group protected): exit code and stdout+stderr.</summary>
    public async Task<(int Exit, string Output)> ExecAsync(string environmentId, string command, bool asScorer)
    {
        using var call = Sandbox.Exec(new ExecRequest { EnvironmentId = environmentId, Command = command, TimeoutSeconds = 120, AsScorer = asScorer });
        var output = new System.Text.StringBuilder();
        var exit = -1;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var e = call.ResponseStream.Current;
            if (e.EventCase == ExecEvent.EventOneofCase.Stdout) output.Append(e.Stdout.ToStringUtf8());
            else if (e.EventCase == ExecEvent.EventOneofCase.Stderr) output.Append(e.Stderr.ToStringUtf8());
            else if (e.EventCase == ExecEvent.EventOneofCase.Exit) exit = e.Exit.ExitCode;
        }
        return (exit, output.ToString());
    }

    public async Task DestroyAsync(string environmentId) =>
        await Sandbox.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = environmentId });

    private async Task<WebApplication> StartAsync(string name, int port, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map)
    {
        var app = await LoopbackService.StartAsync(name, port, settings, add, map);
        _apps.Add(app);
        return app;
    }

    public async Task DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
