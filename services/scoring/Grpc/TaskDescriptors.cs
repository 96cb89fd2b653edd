using ReBench.Scoring.Catalog;
using ReBench.Scoring.Scores;
using ReBench.Scoring.V1;

namespace ReBench.Scoring.Grpc;

public static class TaskDescriptors
{
    public static TaskDescriptor ToProto(TaskVariant v, TaskBundle bundle) => new()
    {
        TaskId = v.TaskId,
        Variant = v.Name,
        Version = v.Version,
        Title = v.Title,
        Instructions = v.Instructions,
        BundleDigest = v.BundleDigest,
        ScorerDigest = v.ScorerDigest,
        AgentFilesDir = v.Folders.Agent,
        ProtectedFilesDir = v.Folders.Scoring,
        Aggregation = ToProto(v.Scoring.Aggregation),
        LowerIsBetter = v.Scoring.Direction == ScoreDirection.Lower,
        StartScore = v.Scoring.Start,
        ReferenceScore = v.Scoring.Reference,
        ScoreVisible = v.Scoring.ScoreVisible,
        ScorerTimeoutSeconds = v.Scoring.TimeoutSeconds,
        Cpus = v.Resources.Cpus,
        MemoryMb = v.Resources.MemoryMb,
        Network = v.Network,
        DiskMb = v.Resources.DiskMb,
        GpuCount = v.Resources.GpuCountMin,
        GpuModel = v.Resources.GpuModel ?? "",
        ScoreTolerance = v.Scoring.Tolerance ?? 0,
        Variants = { bundle.VariantNames },
        AgentReadableFiles = { v.Scoring.AgentReadable },
        AgentEnvironmentVariables = { v.AgentEnvironmentVariables },
        AgentEnvironmentFile = v.AgentEnvironmentFile ?? "",
    };

    public static Aggregation ToProto(AggregationRule rule) => rule switch
    {
        AggregationRule.Min => Aggregation.Min,
        AggregationRule.Max => Aggregation.Max,
        AggregationRule.Last => Aggregation.Last,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown aggregation rule"),
    };
}
