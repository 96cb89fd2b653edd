namespace ReBench.Scoring.Catalog;

// The YAML shape of manifest.yaml, format v1 (tasks/README.md). Every field is nullable so that a missing field is
// reported by the validator instead of silently becoming 0 or false. Unknown keys fail the parse, which catches typos.

public sealed class ManifestDocument
{
    public int? FormatVersion { get; set; }
    public string? Id { get; set; }
    public string? Version { get; set; }
    public string? Title { get; set; }
    public string? DefaultVariant { get; set; }
    /// <summary>native (default) or task_standard: a METR Task Standard family run through the bridge.</summary>
    public string? Kind { get; set; }
    public TaskStandardSection? TaskStandard { get; set; }
    public PermissionsSection? Permissions { get; set; }
    public ResourcesSection? Resources { get; set; }
    public List<string>? RequiredEnvironmentVariables { get; set; }
    /// <summary>
    /// Which of the required variables the agent's own commands also get (tasks/README.md, "The agent's
    /// environment"); the rest reach only the task's start and its scorer. Default: none.
    /// </summary>
    public List<string>? AgentEnvironmentVariables { get; set; }
    /// <summary>Optional home file (e.g. api.env) that holds the agent's variables as NAME=VALUE lines, mode 0600.</summary>
    public string? AgentEnvironmentFile { get; set; }
    public ScoringSection? Scoring { get; set; }
    public List<VariantSection>? Variants { get; set; }
    /// <summary>Files laid under every variant's folders (tasks/README.md, "Layers"); a variant's own layers follow these.</summary>
    public List<LayerSection>? Layers { get; set; }
}

/// <summary>
/// One layer: a file or folder (<see cref="From"/>: of the bundle, or of tasks/_shared/ as "_shared/...") whose files
/// a variant's agent/, scoring/ or reference/ folder gets under <see cref="Into"/>, unless its own folder has them.
/// </summary>
public sealed class LayerSection
{
    public string? From { get; set; }
    /// <summary>agent, scoring or reference, optionally followed by a subfolder: "agent/solution".</summary>
    public string? Into { get; set; }
    /// <summary>Only for a file: its name in <see cref="Into"/> when it differs from the source's.</summary>
    public string? As { get; set; }
}

public sealed class VariantSection
{
    public string? Name { get; set; }
    public string? Instructions { get; set; }
    /// <summary>task_standard bundles: the family's task name (a key of get_tasks()); the variant's name when absent.</summary>
    public string? Task { get; set; }
    /// <summary>
    /// Another variant whose agent/, scoring/ and reference/ folders this one uses (hidden_score: main's files, the
    /// score hidden), instead of keeping copies; absent: its own variants/NAME/ folders, else the bundle root's.
    /// </summary>
    public string? FoldersOf { get; set; }
    /// <summary>Layers of this variant only, after the task-level ones; not with <see cref="FoldersOf"/>.</summary>
    public List<LayerSection>? Layers { get; set; }
    public OverridesSection? Overrides { get; set; }
}

/// <summary>Where a Task Standard family lives: a module in the bundle's scoring/ folder.</summary>
public sealed class TaskStandardSection
{
    /// <summary>The family's module name: scoring/&lt;family&gt;.py defines class TaskFamily.</summary>
    public string? Family { get; set; }
}

/// <summary>What a variant may override; each field it sets replaces the task-level one, field by field.</summary>
public sealed class OverridesSection
{
    public PermissionsSection? Permissions { get; set; }
    public ResourcesSection? Resources { get; set; }
    public List<string>? RequiredEnvironmentVariables { get; set; }
    public List<string>? AgentEnvironmentVariables { get; set; }
    public string? AgentEnvironmentFile { get; set; }
    public ScoringSection? Scoring { get; set; }
}

public sealed class PermissionsSection
{
    public bool? Network { get; set; }

    public static PermissionsSection Merge(PermissionsSection? task, PermissionsSection? variant) =>
        new() { Network = variant?.Network ?? task?.Network };
}

public sealed class ResourcesSection
{
    public int? Cpus { get; set; }
    public long? MemoryMb { get; set; }
    public long? DiskMb { get; set; }
    public GpuSection? Gpu { get; set; }

    public static ResourcesSection Merge(ResourcesSection? task, ResourcesSection? variant) => new()
    {
        Cpus = variant?.Cpus ?? task?.Cpus,
        MemoryMb = variant?.MemoryMb ?? task?.MemoryMb,
        DiskMb = variant?.DiskMb ?? task?.DiskMb,
        Gpu = variant?.Gpu ?? task?.Gpu,
    };
}

public sealed class GpuSection
{
    public List<int>? CountRange { get; set; }
    public string? Model { get; set; }
}

public sealed class ScoringSection
{
    public string? RawScore { get; set; }
    public string? Direction { get; set; }
    public string? Aggregation { get; set; }
    public double? Start { get; set; }
    public double? Reference { get; set; }
    public string? MeasuredBy { get; set; }
    public bool? ScoreVisible { get; set; }
    public int? ScorerTimeoutSeconds { get; set; }
    public bool? CatchOutOfMemory { get; set; }
    public string? Command { get; set; }
    /// <summary>Home-relative files the scorer relies on that must stay as the bundle's agent/ copy (tamper-checked).</summary>
    public List<string>? ProtectedAgentFiles { get; set; }
    /// <summary>Optional: how far (normalized units) a re-execution's final score may differ and still reproduce.</summary>
    public double? Tolerance { get; set; }
    /// <summary>
    /// Paths in the protected area (the variant's scoring/ folder, or its assets into: protected) the agent may read
    /// and run but not write. Default: none; everything else in the area is hidden from the agent.
    /// </summary>
    public List<string>? AgentReadable { get; set; }

    public static ScoringSection Merge(ScoringSection? task, ScoringSection? variant) => new()
    {
        RawScore = variant?.RawScore ?? task?.RawScore,
        Direction = variant?.Direction ?? task?.Direction,
        Aggregation = variant?.Aggregation ?? task?.Aggregation,
        Start = variant?.Start ?? task?.Start,
        Reference = variant?.Reference ?? task?.Reference,
        MeasuredBy = variant?.MeasuredBy ?? task?.MeasuredBy,
        ScoreVisible = variant?.ScoreVisible ?? task?.ScoreVisible,
        ScorerTimeoutSeconds = variant?.ScorerTimeoutSeconds ?? task?.ScorerTimeoutSeconds,
        CatchOutOfMemory = variant?.CatchOutOfMemory ?? task?.CatchOutOfMemory,
        Command = variant?.Command ?? task?.Command,
        ProtectedAgentFiles = variant?.ProtectedAgentFiles ?? task?.ProtectedAgentFiles,
        Tolerance = variant?.Tolerance ?? task?.Tolerance,
        AgentReadable = variant?.AgentReadable ?? task?.AgentReadable,
    };
}
