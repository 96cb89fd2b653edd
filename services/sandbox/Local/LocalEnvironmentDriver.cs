using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using ReBench.Sandbox.Environments;
using ReBench.Sandbox.Local.Isolation;
using ReBench.Sandbox.Local.Relay;

namespace ReBench.Sandbox.Local;

/// <summary>
/// Environments as directories on this node, <c>&lt;root&gt;/&lt;id&gt;/{home,protected}</c>. How far they are confined
/// is the <see cref="IEnvironmentIsolation"/>'s business (Sandbox:Isolation): with none, commands run as the
/// service's user and can read anything it can; with namespaces, see <see cref="NamespaceIsolation"/>. The directory
/// layout is the state, so environments survive a restart.
/// </summary>
internal sealed partial class LocalEnvironmentDriver : IEnvironmentDriver
{
    private const string StagingDir = ".staging";
    private static readonly string[] InheritedVariables = ["PATH", "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH"];
    private static readonly string[] InheritedPrefixes = ["CUDA_", "NVIDIA_"];

    private readonly SandboxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalEnvironmentDriver> _logger;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, LocalEnvironment> _environments = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly IEnvironmentIsolation _isolation;
    private readonly AgentExecRelay _relay;
    // Held for the service's life: a second service on the same root would re-adopt (and kill the work of) live environments.
    private readonly RootLock _rootLock;
    private readonly EnvironmentFiles _files;

    public LocalEnvironmentDriver(IOptions<SandboxOptions> options, TimeProvider time, ILogger<LocalEnvironmentDriver> logger,
        IHostApplicationLifetime lifetime, IServiceProvider services)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        if (!Path.IsPathRooted(_options.Root)) throw new InvalidOperationException($"Sandbox:Root '{_options.Root}' must be absolute");
        Directory.CreateDirectory(_options.Root);
        _isolation = IsolationSelector.Create(_options, logger);
        _root = PathResolver.RealPath(Path.GetFullPath(_options.Root));
        _files = new EnvironmentFiles(_root); // refuses to start on a kernel without openat2 (see there)
        // Through the service's IEnvironmentDriver (the GPU layer included: relayed code sees only the environment's
        // GPUs), resolved when the first request comes, since that driver may wrap this one.
        _relay = new AgentExecRelay((spec, ct) => services.GetRequiredService<IEnvironmentDriver>().ExecAsync(spec, ct), _isolation.OwnForScorer, logger);
        _rootLock = RootLock.Acquire(_root);
        Rediscover();
        lifetime.ApplicationStopping.Register(Suspend);
    }

    public string Name => "local";

    public async Task<EnvironmentInfo> CreateAsync(EnvironmentSpec spec, CancellationToken ct)
    {
        var id = spec.EnvironmentId is { Length: > 0 } given ? SandboxNames.CheckId(given) : Guid.NewGuid().ToString();
        var agentFiles = CheckSourceDir(spec.AgentFilesDir, "agent_files_dir");
        var protectedFiles = CheckSourceDir(spec.ProtectedFilesDir, "protected_files_dir");
        ResourceChecks.Check(spec.Resources, _root);
        AllowedEndpoint.ForTask(spec.Network, spec.AllowedEndpoints); // bad entries are INVALID_ARGUMENT before anything is created
        var readable = AgentReadable.Check(spec.AgentReadable);

        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (_environments.TryGetValue(id, out var existing) && !existing.Destroyed) return Describe(existing);

            // Build under a staging name and rename at the end, so a half-copied environment is never visible.
            var staging = Path.Combine(_root, StagingDir, Guid.NewGuid().ToString("N"));
            try
            {
                await Task.Run(() =>
                {
                    Directory.CreateDirectory(staging);
                    _isolation.PrepareHome(staging, spec.Resources);
                    if (agentFiles is not null) DirectoryCopier.Copy(agentFiles, Path.Combine(staging, "home"), ct);
                    if (protectedFiles is null) Directory.CreateDirectory(Path.Combine(staging, "protected"));
                    else DirectoryCopier.Copy(protectedFiles, Path.Combine(staging, "protected"), ct);
                    Directory.CreateDirectory(Path.Combine(staging, AgentExecRelay.DirectoryName));
                    _isolation.Seal(staging, readable);
                }, ct);
                var directory = Path.Combine(_root, id);
                Directory.Move(staging, directory);
                var environment = new LocalEnvironment(id, directory);
                try
                {
                    await Task.Run(() => _isolation.Start(environment, spec with { EnvironmentId = id }), CancellationToken.None);
                }
                catch
                {
                    _isolation.Teardown(environment);
                    Directory.Delete(directory, recursive: true);
                    throw;
                }
                StartRelay(environment);
                _environments[id] = environment;
                _logger.LogInformation("Created environment {EnvironmentId} for task {TaskId} at {Directory} (driver {Driver})",
                    id, spec.TaskId, directory, _isolation.DriverName);
                return Describe(environment);
            }
            catch (IOException e) when (DiskFull(e))
            {
                throw SandboxException.Exhausted($"the agent files do not fit in resources.disk_mb {spec.Resources?.DiskMb} MB: {e.Message}");
            }
            finally
            {
                if (Directory.Exists(staging))
                {
                    _isolation.DiscardStaging(staging);
                    Directory.Delete(staging, recursive: true);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public Task<EnvironmentInfo> GetAsync(string environmentId, CancellationToken ct)
    {
        SandboxNames.CheckId(environmentId);
        if (!_environments.TryGetValue(environmentId, out var environment)) throw UnknownEnvironment(environmentId);
        return Task.FromResult(Describe(environment));
    }

    public async IAsyncEnumerable<ExecOutput> ExecAsync(ExecSpec spec, [EnumeratorCancellation] CancellationToken ct)
    {
        var environment = Live(spec.EnvironmentId);
        if (string.IsNullOrWhiteSpace(spec.Command)) throw SandboxException.Invalid("command is required");
        if (spec.Command.Contains('\0')) throw SandboxException.Invalid("command contains a NUL byte, which no shell command can carry");
        if (spec.Timeout is { } t && t < TimeSpan.Zero) throw SandboxException.Invalid($"timeout {t} is negative");
        if (spec.MaxOutputBytes < 0 || spec.MaxOutputBytes > _options.MaxOutputBytesLimit)
        {
            throw SandboxException.Invalid($"max_output_bytes {spec.MaxOutputBytes} must be between 0 and {_options.MaxOutputBytesLimit}");
        }
        var workingDir = _files.CheckWorkingDirectory(environment, spec.WorkingDir);

        var startInfo = StartInfo(spec, environment, workingDir);
        var oomKillsBefore = _isolation.OomKills(environment, spec);
        _isolation.WrapExec(environment, spec, startInfo);
        var execution = new LocalExecution(
            startInfo,
            environment,
            _time,
            spec.Timeout is { } timeout && timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(_options.DefaultTimeoutSeconds),
            TimeSpan.FromMilliseconds(_options.OutputDrainMilliseconds),
            spec.MaxOutputBytes > 0 ? spec.MaxOutputBytes : _options.DefaultMaxOutputBytes,
            spec.Stdin,
            () => _isolation.OomKills(environment, spec) > oomKillsBefore)
        {
            KillGroupOnExit = spec.KillGroupOnExit,
        };
        if (spec.AsScorer) environment.ScoringStarted();
        try
        {
            await foreach (var output in execution.RunAsync(ct)) yield return output;
        }
        finally
        {
            // What the scorer or the code it judged left in the scoring groups (a detached daemon, say) must not keep
            // the scorer's CPU priority and second set of limits once no scoring runs.
            if (spec.AsScorer) environment.ScoringEnded(() => _isolation.EndScoring(environment));
        }
    }

    public Task<FileReadResult> ReadFileAsync(string environmentId, string path, FileArea area, long maxBytes, CancellationToken ct)
    {
        if (maxBytes < 0) throw SandboxException.Invalid($"max_bytes {maxBytes} is negative");
        var environment = Live(environmentId);
        return _files.ReadAsync(environment, path, area, maxBytes > 0 ? maxBytes : _options.DefaultReadBytes, ct);
    }

    public Task<FileWriteResult> WriteFileAsync(string environmentId, string path, ReadOnlyMemory<byte> content, bool executable, CancellationToken ct) =>
        _files.WriteAsync(Live(environmentId), path, content, executable, _isolation.OwnAsAgent, ct);

    public async Task<bool> DestroyAsync(string environmentId, CancellationToken ct)
    {
        SandboxNames.CheckId(environmentId);
        var gate = _locks.GetOrAdd(environmentId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!_environments.TryGetValue(environmentId, out var environment) || environment.Destroyed) return false;
            _relay.Stop(environmentId);
            environment.KillAll();
            await Task.Run(() =>
            {
                _isolation.Teardown(environment);
                Directory.Delete(environment.Directory, recursive: true);
            }, CancellationToken.None);
            _logger.LogInformation("Destroyed environment {EnvironmentId}", environmentId);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    public Task<IReadOnlyList<EnvironmentListing>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<EnvironmentListing>>(_environments.Values.Where(e => !e.Destroyed)
            .Select(e => new EnvironmentListing(e.Id, new DateTimeOffset(Directory.GetCreationTimeUtc(e.Directory), TimeSpan.Zero)))
            .OrderBy(e => e.CreatedAt).ToList());

    private static bool IsPortableName(string key) =>
        key.Length > 0 && !char.IsAsciiDigit(key[0]) && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static void CheckVariable(string key, string value)
    {
        if (key.Length == 0 || key.Contains('=') || key.Contains('\0') || value.Contains('\0'))
        {
            throw SandboxException.Invalid($"env variable '{SandboxNames.Printable(key)}' has an invalid name or value");
        }
        // Portable names only (POSIX): the isolated path hands variables to the command through shell exports.
        if (!IsPortableName(key))
        {
            throw SandboxException.Invalid($"env variable '{SandboxNames.Printable(key)}' is not a valid name: use letters, digits and '_', not starting with a digit");
        }
        if (key is "HOME" or "REBENCH_PROTECTED" or "REBENCH_AGENT_EXEC" or "__REBENCH_EXEC_ENV") throw SandboxException.Invalid($"env variable '{key}' is set by the sandbox");
    }

    private ProcessStartInfo StartInfo(ExecSpec spec, LocalEnvironment environment, string workingDir)
    {
        var info = new ProcessStartInfo(SystemTools.Setsid)
        {
            WorkingDirectory = workingDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --wait keeps the exit status should setsid ever need to fork (it does not when its caller leads no group).
        foreach (var arg in new[] { "--wait", "/bin/bash", "-c", spec.Command }) info.ArgumentList.Add(arg);

        // Start from a clean environment: the service's own variables (connection strings, keys) are not the agent's.
        var inherited = info.Environment.Where(kv => InheritedVariables.Contains(kv.Key) || InheritedPrefixes.Any(p => kv.Key.StartsWith(p, StringComparison.Ordinal))).ToList();
        info.Environment.Clear();
        foreach (var (key, value) in inherited) info.Environment[key] = value;
        // The task's variables for the agent (never for a scorer run, which the scoring service gives its own), then
        // the request's own, which win.
        if (!spec.AsScorer)
            foreach (var (key, value) in AgentEnvOf(environment)) info.Environment[key] = value;
        foreach (var (key, value) in spec.Env)
        {
            CheckVariable(key, value);
            info.Environment[key] = value;
        }
        info.Environment["HOME"] = environment.Home;
        if (spec.AsScorer) info.Environment["REBENCH_PROTECTED"] = environment.Protected;
        // A scorer run's HOME is the agent's home: Python would import the agent's ~/.local site-packages
        // (usercustomize.py, .pth files) into the scorer, with the protected group. No user site for scorer runs.
        if (spec.AsScorer) info.Environment["PYTHONNOUSERSITE"] = "1";
        if (spec.AsScorer && _relay.Serves(environment)) info.Environment["REBENCH_AGENT_EXEC"] = AgentExecRelay.ClientPath(environment);
        return info;
    }

    /// <summary>On shutdown: nothing of an isolated environment keeps running without the service that manages it.</summary>
    private void Suspend()
    {
        _relay.Dispose();
        foreach (var environment in _environments.Values.Where(e => !e.Destroyed))
        {
            try { _isolation.Suspend(environment); }
            catch (Exception e) { _logger.LogWarning(e, "Suspending environment {EnvironmentId} failed", environment.Id); }
        }
    }

    private void Rediscover()
    {
        var staging = Path.Combine(_root, StagingDir);
        if (Directory.Exists(staging))
        {
            _isolation.DiscardStaging(staging);
            Directory.Delete(staging, recursive: true);
        }
        foreach (var dir in new DirectoryInfo(_root).EnumerateDirectories())
        {
            if (dir.LinkTarget is not null || !Directory.Exists(Path.Combine(dir.FullName, "home"))) continue;
            try { SandboxNames.CheckId(dir.Name); }
            catch (SandboxException) { continue; }
            var environment = new LocalEnvironment(dir.Name, dir.FullName);
            _isolation.Recover(environment);
            KillLeftovers(environment);
            StartRelay(environment);
            _environments[dir.Name] = environment;
        }
        _logger.LogInformation("Sandbox root {Root}: found {Count} existing environments", _root, _environments.Count);
    }

    /// <summary>
    /// What a crashed predecessor left running in a re-adopted environment is killed before the service serves it: a
    /// step cut off by the crash is run again by the orchestrator, and the first run must not go on beside the second
    /// (nor a detached job go on unsupervised). What was killed is logged and appended to the environment's
    /// <c>leftovers-killed.jsonl</c> (beside home/, outside what the agent sees), which an operator can read.
    /// </summary>
    private void KillLeftovers(LocalEnvironment environment)
    {
        var killed = _isolation.KillLeftovers(environment);
        var byDirectory = ProcessKiller.KillByWorkingDirectory(environment.Directory);
        if (killed.Count == 0 && byDirectory == 0) return;
        _logger.LogWarning("Environment {EnvironmentId}: killed {Count} processes left running by the previous sandbox service ({Processes}{More})",
            environment.Id, killed.Count + byDirectory, string.Join("; ", killed.Take(10)),
            byDirectory > 0 ? $"; {byDirectory} more by working directory" : "");
        var line = System.Text.Json.JsonSerializer.Serialize(new
        {
            at = _time.GetUtcNow(), reason = "sandbox service restarted", killed, killed_by_working_directory = byDirectory,
        });
        try { File.AppendAllText(Path.Combine(environment.Directory, LeftoversFile), line + "\n"); }
        catch (IOException e) { _logger.LogWarning(e, "Environment {EnvironmentId}: could not record the killed leftovers", environment.Id); }
    }

    public const string LeftoversFile = "leftovers-killed.jsonl";

    /// <summary>Without the relay a scorer has no REBENCH_AGENT_EXEC and says so; the environment itself still works.</summary>
    private void StartRelay(LocalEnvironment environment)
    {
        try { _relay.Start(environment); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            _logger.LogWarning(e, "Environment {EnvironmentId}: no agent-exec relay for its scorers", environment.Id);
        }
    }

    private LocalEnvironment Live(string environmentId)
    {
        SandboxNames.CheckId(environmentId);
        if (!_environments.TryGetValue(environmentId, out var environment)) throw UnknownEnvironment(environmentId);
        if (environment.Destroyed) throw SandboxException.Precondition($"environment {environmentId} has been destroyed");
        return environment;
    }

    private static string? CheckSourceDir(string? dir, string field)
    {
        if (string.IsNullOrEmpty(dir)) return null;
        if (!Path.IsPathFullyQualified(dir)) throw SandboxException.Invalid($"{field} '{dir}' is not an absolute path");
        if (!Directory.Exists(dir)) throw SandboxException.Invalid($"{field} '{dir}' is not an existing directory");
        return dir;
    }

    private static bool DiskFull(IOException e) => e.HResult == 28 || e.Message.Contains("No space left", StringComparison.Ordinal);

    private EnvironmentInfo Describe(LocalEnvironment e) =>
        new(e.Id, e.Home, e.Protected, _isolation.DriverName, e.Destroyed ? EnvironmentState.Destroyed : EnvironmentState.Ready);

    private static SandboxException UnknownEnvironment(string id) => SandboxException.NotFound($"environment {id} does not exist");
}
