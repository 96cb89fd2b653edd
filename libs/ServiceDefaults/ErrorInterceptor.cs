using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Turns exceptions that escape a handler into gRPC statuses with a message, so a client never sees a bare
/// "Exception was thrown by handler". RpcExceptions pass through unchanged.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception e) when (e is not RpcException) { throw Map(e, context); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (e is not RpcException) { throw Map(e, context); }
    }

    private RpcException Map(Exception e, ServerCallContext context)
    {
        switch (e)
        {
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            case ArgumentException or FormatException:
                return new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
            default:
                logger.LogError(e, "Unhandled error in {Method}", context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"{context.Method} failed: {e.GetType().Name}: {e.Message}"));
        }
    }
}
