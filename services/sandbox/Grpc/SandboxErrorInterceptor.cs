using Grpc.Core;
using ReBench.Sandbox.Environments;
using ReBench.ServiceDefaults;

namespace ReBench.Sandbox.Grpc;

/// <summary>Turns a driver's <see cref="SandboxException"/> into the matching gRPC status, keeping its message.</summary>
public sealed class SandboxErrorInterceptor : StatusMappingInterceptor<SandboxException>
{
    protected override StatusCode Code(SandboxException e) => e.Error switch
    {
        SandboxError.InvalidArgument => StatusCode.InvalidArgument,
        SandboxError.NotFound => StatusCode.NotFound,
        SandboxError.PermissionDenied => StatusCode.PermissionDenied,
        SandboxError.ResourceExhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.FailedPrecondition,
    };
}
