using ReBench.Orchestrator.Attempts;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Grpc;

/// <summary>Maps a decider's refusal to the gRPC status an API client expects, keeping its message.</summary>
public sealed class DomainRejectionInterceptor : StatusMappingInterceptor<DomainRejection>
{
    protected override StatusCode Code(DomainRejection r) => r.Kind switch
    {
        RejectionKind.NotFound => StatusCode.NotFound,
        RejectionKind.InvalidArgument => StatusCode.InvalidArgument,
        _ => StatusCode.FailedPrecondition,
    };
}
