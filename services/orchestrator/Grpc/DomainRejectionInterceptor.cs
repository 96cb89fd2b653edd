using Grpc.Core;
using Grpc.Core.Interceptors;
using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Grpc;

/// <summary>Maps a decider's refusal to the gRPC status an API client expects, keeping its message.</summary>
public sealed class DomainRejectionInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (DomainRejection r) { throw ToRpc(r); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (DomainRejection r) { throw ToRpc(r); }
    }

    private static RpcException ToRpc(DomainRejection r) => new(new Status(r.Kind switch
    {
        RejectionKind.NotFound => StatusCode.NotFound,
        RejectionKind.InvalidArgument => StatusCode.InvalidArgument,
        _ => StatusCode.FailedPrecondition,
    }, r.Message));
}
