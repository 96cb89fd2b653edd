using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Grpc;

internal static class Mapping
{
    public static Attempt ToProto(this AttemptView v)
    {
        var a = new Attempt
        {
            AttemptId = v.Id.ToString(), CampaignId = v.CampaignId.ToString(),
            Task = new TaskRef { TaskId = v.TaskId, Variant = v.Variant },
            Agent = new AgentSpec { Name = v.Agent }, Index = v.Index, Status = ToStatus(v.Phase),
            TimeBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(v.TimeBudgetSeconds)),
            ScheduledAt = Timestamp.FromDateTimeOffset(v.ScheduledAt),
            RawScore = v.RawScore ?? double.NaN, NormalizedScore = v.NormalizedScore ?? (v.EndedAt is null ? double.NaN : 0),
            FinalScoreValid = v.FinalScoreValid, ScoreCount = v.ScoreCount, EventCount = v.Version, BundleDigest = v.BundleDigest ?? "",
            EnvironmentId = v.EnvironmentId ?? "", FailureReason = v.FailureReason ?? "", ActionCount = v.ActionCount,
            QueuedReason = v.QueuedReason ?? "", Paused = v.Paused, CostUsd = v.CostUsd, WorkingSeconds = v.WorkingSeconds ?? 0,
            ReexecutionOf = v.ReexecutionOf?.ToString() ?? "",
        };
        if (v.StartedAt is { } s) a.StartedAt = Timestamp.FromDateTimeOffset(s);
        if (v.EndedAt is { } e) a.EndedAt = Timestamp.FromDateTimeOffset(e);
        if (v.Deadline is { } d) a.Deadline = Timestamp.FromDateTimeOffset(d);
        return a;
    }

    public static AttemptStatus ToStatus(AttemptPhase p) => p switch
    {
        AttemptPhase.Scheduled => AttemptStatus.Scheduled,
        AttemptPhase.Running or AttemptPhase.Finalizing => AttemptStatus.Running,
        AttemptPhase.Completed => AttemptStatus.Completed,
        AttemptPhase.Failed => AttemptStatus.Failed,
        AttemptPhase.Cancelled => AttemptStatus.Cancelled,
        _ => AttemptStatus.Unspecified,
    };

    public static AttemptPhase[] ToPhases(AttemptStatus s) => s switch
    {
        AttemptStatus.Scheduled => [AttemptPhase.Scheduled],
        AttemptStatus.Running => [AttemptPhase.Running, AttemptPhase.Finalizing],
        AttemptStatus.Completed => [AttemptPhase.Completed],
        AttemptStatus.Failed => [AttemptPhase.Failed],
        AttemptStatus.Cancelled => [AttemptPhase.Cancelled],
        _ => [],
    };

    public static Campaign ToProto(this CampaignState s, IReadOnlyCollection<AttemptView> attempts)
    {
        var c = new Campaign
        {
            CampaignId = s.Id.ToString(), Name = s.Name, AttemptsPerPair = s.AttemptsPerPair,
            TimeBudget = Duration.FromTimeSpan(s.TimeBudget), CreatedAt = Timestamp.FromDateTimeOffset(s.CreatedAt),
            AttemptsTotal = s.AttemptIds.Count,
            AttemptsFinished = attempts.Count(a => a.EndedAt is not null),
            AuditWork = s.AuditWork,
        };
        c.Finished = c.AttemptsFinished == c.AttemptsTotal;
        c.Tasks.AddRange(s.Tasks.Select(t => new TaskRef { TaskId = t.TaskId, Variant = t.Variant }));
        c.Agents.AddRange(s.Agents.Select(a => new AgentSpec { Name = a.Name }));
        c.AttemptIds.AddRange(s.AttemptIds.Select(id => id.ToString()));
        return c;
    }
}
