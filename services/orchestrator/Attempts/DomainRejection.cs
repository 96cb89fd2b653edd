namespace ReBench.Orchestrator.Attempts;

public enum RejectionKind { NotFound, FailedPrecondition, InvalidArgument }

/// <summary>A decider's refusal; the gRPC layer turns it into a status with this message.</summary>
public sealed class DomainRejection(RejectionKind kind, string message) : Exception(message)
{
    public RejectionKind Kind { get; } = kind;
}
