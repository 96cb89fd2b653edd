using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Grpc;

/// <summary>The attempt's provenance as attempt_started recorded it (GetAttempt's <c>provenance</c>).</summary>
internal static class ProvenanceMapping
{
    public static async Task<Provenance?> LoadAsync(IDocumentStore store, Guid attemptId, string taskId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var started = await session.Events.QueryRawEventDataOnly<AttemptStarted>()
            .Where(e => e.AttemptId == attemptId).FirstOrDefaultAsync(ct);
        return started is null ? null : ToProto(started, taskId);
    }

    public static Provenance ToProto(AttemptStarted s, string taskId)
    {
        var p = new Provenance
        {
            TaskId = taskId, Variant = s.Variant ?? "", TaskVersion = s.TaskVersion ?? "", BundleDigest = s.BundleDigest ?? "",
            ScorerDigest = s.ScorerDigest ?? "", Agent = s.Agent ?? "", AgentVersion = s.AgentVersion ?? "", Model = s.Model ?? "",
            PlatformVersion = s.PlatformVersion ?? "", SandboxDriver = s.SandboxDriver ?? "", Node = s.Node ?? "",
            // Events stored before these fields existed say nothing about GPUs: "" (unknown), not "none".
            GpuModel = s.GpuModel ?? "", GpuCount = s.GpuCount, GpuDriverVersion = s.GpuDriverVersion ?? "",
            TimeBudgetSeconds = s.TimeBudgetSeconds, TokenBudget = s.TokenBudget ?? 0, CostBudgetUsd = s.CostBudgetUsd ?? 0,
        };
        if (s.GenerationSettings is { } settings) p.GenerationSettings.Add(settings);
        return p;
    }
}
