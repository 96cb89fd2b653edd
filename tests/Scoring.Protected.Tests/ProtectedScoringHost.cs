namespace ReBench.Scoring.Protected.Tests;

/// <summary>
/// The real sandbox service and the real scoring service, each a WebApplication built by its own setup methods on a
/// loopback port (HTTP/2), the scoring service calling the sandbox over gRPC. Tasks: a copy of the repository's
/// prefix-sum bundle, the Task Standard test family and the failure-mode bundle, in a temporary tasks root.
/// </summary>
public class ProtectedScoringHost : IAsyncLifetime
{
    private readonly string _isolation;

    public ProtectedScoringHost() : this("auto") { }

    /// <param name="isolation">Sandbox:Isolation: auto (namespaces where the machine allows) or none.</param>
    protected ProtectedScoringHost(string isolation) => _isolation = isolation;

    private readonly List<WebApplication> _apps = [];
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-protected-").FullName;

    public Sandbox.V1.Sandbox.SandboxClient Sandbox { get; private set; } = null!;
    public V1.Scoring.ScoringClient Scoring { get; private set; } = null!;
    public string TasksRoot => Path.Combine(_root, "tasks");

    public async Task InitializeAsync()
    {
        CopyFolder(Path.Combine(TestEnv.RepoRoot, "tasks", "ai_rd_triton_cumsum"), Path.Combine(TasksRoot, "ai_rd_triton_cumsum"));
        CopyFolder(Path.Combine(TestEnv.RepoRoot, "tasks", "_shared"), Path.Combine(TasksRoot, "_shared")); // the files its layers name
        CopyFolder(Path.Combine(AppContext.BaseDirectory, "TaskFamilies", "ts_counter"), Path.Combine(TasksRoot, "ts_counter"));
        CopyFolder(Path.Combine(AppContext.BaseDirectory, "TaskFamilies", "ts_final"), Path.Combine(TasksRoot, "ts_final"));
        CopyFolder(Path.Combine(AppContext.BaseDirectory, "Bundles", "nan_reasons"), Path.Combine(TasksRoot, "nan_reasons"));

        var sandboxPort = TestEnv.FreePort();
        var scoringPort = TestEnv.FreePort();
        await StartAsync("sandbox", sandboxPort, new() { ["Sandbox:Root"] = Path.Combine(_root, "sandbox"), ["Sandbox:Isolation"] = _isolation }, b => b.AddSandbox(), a => a.MapSandbox());
        await StartAsync("scoring", scoringPort, new()
        {
            ["Scoring:TasksRoot"] = TasksRoot, ["Services:Sandbox"] = $"http://127.0.0.1:{sandboxPort}",
        }, b => b.AddScoring(), a => a.MapScoring());
        Sandbox = new Sandbox.V1.Sandbox.SandboxClient(TestPlatformKey.Channel($"http://127.0.0.1:{sandboxPort}"));
        Scoring = new V1.Scoring.ScoringClient(TestPlatformKey.Channel($"http://127.0.0.1:{scoringPort}"));
    }

    /// <summary>An environment for the task as the orchestrator makes one: created by the sandbox, then prepared by scoring.</summary>
    public async Task<(string Id, TaskDescriptor Task)> NewAttemptAsync(string taskId, string variant = "")
    {
        var task = await Scoring.GetTaskAsync(new GetTaskRequest { TaskId = taskId, Variant = variant });
        var env = await Sandbox.CreateEnvironmentAsync(new CreateEnvironmentRequest
        {
            TaskId = taskId, AgentFilesDir = task.AgentFilesDir, ProtectedFilesDir = task.ProtectedFilesDir,
        });
        await Scoring.PrepareEnvironmentAsync(new PrepareEnvironmentRequest
        {
            AttemptId = "attempt-" + env.EnvironmentId, TaskId = taskId, Variant = variant, EnvironmentId = env.EnvironmentId,
        });
        return (env.EnvironmentId, task);
    }

    public Task<IntermediateScore> ScoreAsync(string environmentId, TaskDescriptor task) =>
        Scoring.ScoreSubmissionAsync(new ScoreSubmissionRequest
        {
            AttemptId = "attempt-" + environmentId, TaskId = task.TaskId, Variant = task.Variant, EnvironmentId = environmentId,
        }).ResponseAsync;

    /// <summary>A command as the agent runs it (not as the scorer): exit code, stdout, stderr.</summary>
    public async Task<(int Exit, string Stdout, string Stderr)> AgentRunsAsync(string environmentId, string command)
    {
        using var call = Sandbox.Exec(new ExecRequest { EnvironmentId = environmentId, Command = command, TimeoutSeconds = 120 });
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var exit = -1;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == ExecEvent.EventOneofCase.Stdout) e.Stdout.WriteTo(stdout);
            else if (e.EventCase == ExecEvent.EventOneofCase.Stderr) e.Stderr.WriteTo(stderr);
            else if (e.EventCase == ExecEvent.EventOneofCase.Exit) exit = e.Exit.ExitCode;
        }
        return (exit, System.Text.Encoding.UTF8.GetString(stdout.ToArray()), System.Text.Encoding.UTF8.GetString(stderr.ToArray()));
    }

    /// <summary>A protected file as the platform sees it (null when missing).</summary>
    public async Task<string?> ReadProtectedAsync(string environmentId, string path)
    {
        try
        {
            var file = await Sandbox.ReadFileAsync(new ReadFileRequest { EnvironmentId = environmentId, Path = path, ProtectedArea = true });
            return file.Content.ToStringUtf8();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task StartAsync(string name, int port, Dictionary<string, string?> settings,
        Action<WebApplicationBuilder> add, Action<WebApplication> map) =>
        _apps.Add(await LoopbackService.StartAsync(name, port, settings, add, map));

    internal static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (file.Contains("__pycache__")) continue;
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The same, with the sandbox's isolation off: what the tamper checks alone catch.</summary>
public sealed class UnisolatedScoringHost() : ProtectedScoringHost("none");
