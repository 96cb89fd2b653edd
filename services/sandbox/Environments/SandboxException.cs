namespace ReBench.Sandbox.Environments;

public enum SandboxError { InvalidArgument, NotFound, PermissionDenied, FailedPrecondition, ResourceExhausted }

/// <summary>A refusal a driver reports to its caller; the gRPC layer turns <see cref="Error"/> into a status code.</summary>
public sealed class SandboxException(SandboxError error, string message) : Exception(message)
{
    public SandboxError Error { get; } = error;

    public static SandboxException Invalid(string message) => new(SandboxError.InvalidArgument, message);
    public static SandboxException NotFound(string message) => new(SandboxError.NotFound, message);
    public static SandboxException Denied(string message) => new(SandboxError.PermissionDenied, message);
    public static SandboxException Precondition(string message) => new(SandboxError.FailedPrecondition, message);
    /// <summary>Possible later, not now (e.g. every GPU of the model is taken): the caller may queue and retry.</summary>
    public static SandboxException Exhausted(string message) => new(SandboxError.ResourceExhausted, message);
}
