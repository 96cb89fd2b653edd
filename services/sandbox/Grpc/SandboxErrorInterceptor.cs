using Grpc.Core;
using Grpc.Core.Interceptors;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Grpc;

/// <summary>Turns a driver's <see cref="SandboxException"/> into the matching gRPC status, keeping its message.</summary>
public sealed class SandboxErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (SandboxException e) { throw ToRpc(e); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (SandboxException e) { throw ToRpc(e); }
    }

    private static RpcException ToRpc(SandboxException e) => new(new Status(e.Error switch
    {
        SandboxError.InvalidArgument => StatusCode.InvalidArgument,
        SandboxError.NotFound => StatusCode.NotFound,
        SandboxError.PermissionDenied => StatusCode.PermissionDenied,
        _ => StatusCode.FailedPrecondition,
    }, e.Message));
}
