using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>
/// An in-memory node-local driver: the allocation decorator's collaborator, not an external service. It records the
/// environment each Exec saw, can fail a Create on demand, and can "crash" an environment (it vanishes without a Destroy).
/// </summary>
public sealed class MemoryDriver : IEnvironmentDriver
{
    private readonly ConcurrentDictionary<string, EnvironmentState> _environments = new();

    public string Name => "memory";
    public bool FailNextCreate { get; set; }
    public IReadOnlyDictionary<string, string>? LastExecEnv { get; private set; }
    public IEnumerable<string> Live => _environments.Where(e => e.Value == EnvironmentState.Ready).Select(e => e.Key);

    public Task<EnvironmentInfo> CreateAsync(EnvironmentSpec spec, CancellationToken ct)
    {
        if (FailNextCreate)
        {
            FailNextCreate = false;
            throw SandboxException.Invalid("agent_files_dir does not exist (injected failure)");
        }
        var id = spec.EnvironmentId!;
        _environments[id] = EnvironmentState.Ready;
        return Task.FromResult(Info(id));
    }

    public Task<EnvironmentInfo> GetAsync(string environmentId, CancellationToken ct) =>
        _environments.ContainsKey(environmentId) ? Task.FromResult(Info(environmentId)) : throw SandboxException.NotFound($"environment {environmentId} does not exist");

    public async IAsyncEnumerable<ExecOutput> ExecAsync(ExecSpec spec, [EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Yield();
        LastExecEnv = spec.Env;
        yield return new ExecCompleted(0, false, TimeSpan.Zero, 0, 0, false);
    }

    public Task<FileReadResult> ReadFileAsync(string environmentId, string path, FileArea area, long maxBytes, CancellationToken ct) => throw new NotSupportedException();
    public Task<FileWriteResult> WriteFileAsync(string environmentId, string path, ReadOnlyMemory<byte> content, bool executable, CancellationToken ct) => throw new NotSupportedException();

    public Task<bool> DestroyAsync(string environmentId, CancellationToken ct) => Task.FromResult(_environments.TryRemove(environmentId, out _));

    public Task<IReadOnlyList<EnvironmentListing>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<EnvironmentListing>>(Live.Select(id => new EnvironmentListing(id, DateTimeOffset.UnixEpoch)).ToList());

    /// <summary>The environment dies on its own (its directory or pod removed, the node rebooted it away).</summary>
    public void Crash(string environmentId) => _environments.TryRemove(environmentId, out _);

    private EnvironmentInfo Info(string id) => new(id, "/home", "/protected", Name, _environments[id]);
}

public static class Gpus
{
    public static string TestData(string file) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", file));

    public static GpuInventory H100Node() => new("nvidia-smi", NvidiaSmiParser.Parse(TestData("nvidia-smi-8xH100-SXM5.csv")).Devices);

    public static GpuAllocatingDriver Driver(MemoryDriver inner, GpuInventory inventory, string stateFile, int maxPerEnvironment = 64) =>
        new(inner, new GpuAllocator(inventory, new AllocationStore(stateFile), NullLogger.Instance),
            new GpuOptions { MaxPerEnvironment = maxPerEnvironment }, NullLogger<GpuAllocatingDriver>.Instance);

    public static EnvironmentSpec Spec(string id, int gpus, string model = "H100") =>
        new(id, "task", null, null, new ResourceSpec(1, 1024, 0, gpus, model), false, new Dictionary<string, string>());

    /// <param name="memoryBacked">On tmpfs where there is one: the store fsyncs every change, which thousands of steps on a disk turn into minutes.</param>
    public static string TempStateFile(bool memoryBacked = false) =>
        Path.Combine(memoryBacked && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "rebench-gpu-tests-" + Guid.NewGuid().ToString("N"), "alloc.json");
}
