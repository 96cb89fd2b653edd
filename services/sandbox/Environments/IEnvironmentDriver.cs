namespace ReBench.Sandbox.Environments;

/// <summary>
/// One kind of task environment (local directories today; namespaces/cgroups or Kubernetes pods later). The gRPC
/// layer talks only to this interface. Implementations report bad input, unknown environments and refused paths by
/// throwing <see cref="SandboxException"/>.
/// </summary>
public interface IEnvironmentDriver
{
    string Name { get; }

    /// <summary>Creates the environment; when <see cref="EnvironmentSpec.EnvironmentId"/> names an existing one, returns it unchanged.</summary>
    Task<EnvironmentInfo> CreateAsync(EnvironmentSpec spec, CancellationToken ct);

    Task<EnvironmentInfo> GetAsync(string environmentId, CancellationToken ct);

    /// <summary>
    /// Runs <c>bash -c command</c> and yields output chunks as they arrive, then exactly one <see cref="ExecCompleted"/>.
    /// A command that runs past its timeout has its whole process tree killed and completes with
    /// <see cref="ExecCompleted.TimeoutExitCode"/> and TimedOut=true. Cancelling the enumeration kills the tree too.
    /// </summary>
    IAsyncEnumerable<ExecOutput> ExecAsync(ExecSpec spec, CancellationToken ct);

    /// <summary>
    /// Runs the command under a pseudo-terminal, isolated as <see cref="ExecAsync"/> is, feeding it <paramref name="input"/>;
    /// yields terminal output chunks (stdout), then exactly one <see cref="ExecCompleted"/>. Cancelling the enumeration
    /// kills the command's process tree. Drivers without a terminal refuse with FailedPrecondition.
    /// </summary>
    IAsyncEnumerable<ExecOutput> ExecInteractiveAsync(ExecSpec spec, TerminalSize size, System.Threading.Channels.ChannelReader<TerminalInput> input, CancellationToken ct) =>
        throw SandboxException.Precondition($"the {Name} driver has no interactive (pseudo-terminal) exec");

    /// <summary>
    /// Sets the variables every later agent command and terminal of the environment gets (never scorer runs), and
    /// writes them to <paramref name="file"/> in the home (NAME=VALUE lines, 0600, the agent's) when one is named.
    /// Drivers that cannot keep them refuse with FailedPrecondition.
    /// </summary>
    Task SetAgentEnvironmentAsync(string environmentId, IReadOnlyDictionary<string, string> env, string? file, CancellationToken ct) =>
        env.Count == 0 && file is null ? Task.CompletedTask
            : throw SandboxException.Precondition($"the {Name} driver cannot give task variables to the agent's environment yet");

    Task<FileReadResult> ReadFileAsync(string environmentId, string path, FileArea area, long maxBytes, CancellationToken ct);

    Task<FileWriteResult> WriteFileAsync(string environmentId, string path, ReadOnlyMemory<byte> content, bool executable, CancellationToken ct);

    /// <summary>Kills everything still running in the environment and deletes it. Returns false when it did not exist.</summary>
    Task<bool> DestroyAsync(string environmentId, CancellationToken ct);

    /// <summary>
    /// The environments this driver holds and has not destroyed, whoever created them: what the orchestrator's
    /// reconciler compares with the attempts that are live, so none outlives its attempt.
    /// </summary>
    Task<IReadOnlyList<EnvironmentListing>> ListAsync(CancellationToken ct);
}

/// <param name="CreatedAt">When the environment was created, as far as the driver knows (a grace period for ones being set up).</param>
public sealed record EnvironmentListing(string EnvironmentId, DateTimeOffset CreatedAt);

public sealed record ResourceSpec(int Cpus, long MemoryMb, long DiskMb, int GpuCount, string GpuModel);

public sealed record EnvironmentSpec(
    string? EnvironmentId,
    string TaskId,
    string? AgentFilesDir,
    string? ProtectedFilesDir,
    ResourceSpec? Resources,
    bool Network,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string>? AllowedEndpoints = null,
    IReadOnlyList<string>? AgentReadable = null);

public enum EnvironmentState { Ready, Destroyed }

public sealed record EnvironmentInfo(string EnvironmentId, string HomePath, string ProtectedPath, string Driver, EnvironmentState State)
{
    /// <summary>The GPUs the environment holds, for provenance; set by the GPU-allocating driver, empty without GPUs.</summary>
    public EnvironmentGpus Gpus { get; init; } = EnvironmentGpus.None;
}

/// <param name="Model">Short model ("H100"), "none" without GPUs.</param>
/// <param name="DriverVersion">The NVIDIA driver version, "none" without GPUs.</param>
public sealed record EnvironmentGpus(string Model, int Count, string DriverVersion)
{
    public static readonly EnvironmentGpus None = new("none", 0, "none");
}

/// <param name="Timeout">Null: the driver's default.</param>
/// <param name="MaxOutputBytes">Per stream; 0: the driver's default. The first half is streamed live, the last half is kept and sent at the end.</param>
public sealed record ExecSpec(
    string EnvironmentId,
    string Command,
    string? WorkingDir,
    TimeSpan? Timeout,
    IReadOnlyDictionary<string, string> Env,
    long MaxOutputBytes,
    bool AsScorer,
    ReadOnlyMemory<byte> Stdin)
{
    /// <summary>
    /// Run in the scoring cgroups (CPU priority) even without the scorer's rights: the judged code a scorer starts
    /// through the agent-exec relay, whose running time may be the score.
    /// </summary>
    public bool ScoringPriority { get; init; }

    /// <summary>
    /// When the command exits, kill what it left running in its process group: the judged code a scorer starts must
    /// not go on working (writing weights, say) while its result is checked. A process that left the group with
    /// setsid escapes this; it dies with the environment.
    /// </summary>
    public bool KillGroupOnExit { get; init; }

    /// <summary>With <see cref="AsScorer"/>: the agent's user instead of the scorer user (Task Standard code that writes the home).</summary>
    public bool ScorerKeepsAgentUser { get; init; }
}

public enum OutputStream { Stdout, Stderr }

public abstract record ExecOutput;

public sealed record ExecChunk(OutputStream Stream, ReadOnlyMemory<byte> Data) : ExecOutput;

public sealed record ExecCompleted(
    int ExitCode, bool TimedOut, TimeSpan Duration, long StdoutElidedBytes, long StderrElidedBytes, bool OomKilled) : ExecOutput
{
    /// <summary>The exit code reported for a command killed at its timeout, as coreutils' timeout(1) does.</summary>
    public const int TimeoutExitCode = 124;
}

/// <summary>Home is the agent's working area; Protected holds files only the scorer may see.</summary>
public enum FileArea { Home, Protected }

public sealed record FileReadResult(ReadOnlyMemory<byte> Content, long Size, bool Truncated, string Sha256);

public sealed record FileWriteResult(long Size, string Sha256);
