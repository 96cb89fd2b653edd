using MassTransit;

namespace ReBench.Contracts;

/// <summary>Integration event: an attempt got its environment and its agent run begins.</summary>
[MessageUrn("rebench.orchestrator.attempt-started")]
public sealed record AttemptStartedIntegration(
    Guid EventId,
    Guid AttemptId,
    Guid CampaignId,
    string TaskId,
    string Variant,
    string Agent,
    string BundleDigest,
    DateTimeOffset StartedAt);
