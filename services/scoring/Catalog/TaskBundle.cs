using ReBench.Scoring.Scores;

namespace ReBench.Scoring.Catalog;

/// <summary>A validated bundle: every variant's configuration is complete, its files exist.</summary>
public sealed record TaskBundle(string Id, string Directory, string DefaultVariant, string Digest, IReadOnlyList<TaskVariant> Variants)
{
    public IReadOnlyList<string> VariantNames => Variants.Select(v => v.Name).ToList();
}

/// <summary>One runnable task: the task-level manifest with the variant's overrides applied.</summary>
public sealed record TaskVariant(
    string TaskId,
    string Name,
    string Version,
    string Title,
    string Instructions,
    string BundleDigest,
    string ScorerDigest,
    VariantFolders Folders,
    TaskResources Resources,
    bool Network,
    IReadOnlyList<string> RequiredEnvironmentVariables,
    ScoringRules Scoring)
{
    /// <summary>Set for bundles of kind task_standard: the family and task the bridge runs.</summary>
    public TaskStandardTask? TaskStandard { get; init; }
    /// <summary>The required variables the agent's commands get too (a subset of <see cref="RequiredEnvironmentVariables"/>).</summary>
    public IReadOnlyList<string> AgentEnvironmentVariables { get; init; } = [];
    /// <summary>A file name in the agent's home that holds the agent's variables as NAME=VALUE lines; null: none.</summary>
    public string? AgentEnvironmentFile { get; init; }
}

/// <summary>A METR Task Standard task: scoring/&lt;Family&gt;.py's TaskFamily, task <see cref="Task"/> of its get_tasks().</summary>
public sealed record TaskStandardTask(string Family, string Task);

/// <summary>
/// Absolute paths of the folders the variant uses: its own under variants/NAME/ or else the shared ones, or, where
/// layers add files to one, a folder composed of them (BundleLoader.Layers.cs).
/// </summary>
public sealed record VariantFolders(string Agent, string Scoring, string Reference)
{
    // A composed folder lives in a temporary directory: each read checks it is still whole (BundleLoader.EnsureLaidOut).
    private readonly string _agent = Agent;
    private readonly string _scoring = Scoring;
    private readonly string _reference = Reference;

    public string Agent { get => BundleLoader.EnsureLaidOut(_agent); init => _agent = value; }
    public string Scoring { get => BundleLoader.EnsureLaidOut(_scoring); init => _scoring = value; }
    public string Reference { get => BundleLoader.EnsureLaidOut(_reference); init => _reference = value; }
}

public sealed record TaskResources(int Cpus, long MemoryMb, long DiskMb, int GpuCountMin, int GpuCountMax, string? GpuModel);

public sealed record ScoringRules(
    string RawScore,
    ScoreDirection Direction,
    AggregationRule Aggregation,
    double Start,
    double Reference,
    string MeasuredBy,
    bool ScoreVisible,
    int TimeoutSeconds,
    bool CatchOutOfMemory,
    string Command)
{
    /// <summary>Home-relative paths that must keep the content of the bundle's agent/ folder (tamper-checked).</summary>
    public IReadOnlyList<string> ProtectedAgentFiles { get; init; } = [];
    /// <summary>Manifest scoring.tolerance (normalized units) for re-executions; null when not declared.</summary>
    public double? Tolerance { get; init; }
    /// <summary>Manifest scoring.agent_readable: protected-area paths the agent may read and run, not write; the rest is hidden.</summary>
    public IReadOnlyList<string> AgentReadable { get; init; } = [];
}

/// <summary>Why a bundle was refused: the offending file and a message naming it and the field.</summary>
public sealed record BundleProblem(string Path, string Message);
