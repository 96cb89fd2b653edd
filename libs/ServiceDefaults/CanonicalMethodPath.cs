using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace ReBench.ServiceDefaults;

/// <summary>
/// A gRPC call is served only under its method's exact path (/package.Service/Method). ASP.NET Core routes paths
/// without regard to case and with a trailing slash, while every policy of the platform (the gateway's auditor rules,
/// the access log's list of content reads) names methods exactly: `readAttemptEvents` or `ReadAttemptEvents/` would
/// reach the method and pass every list that should have caught it. So any other spelling is UNIMPLEMENTED here.
/// </summary>
public sealed class CanonicalMethodPath(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc
            && !string.Equals(context.Request.Path.Value, grpc.Method.FullName, StringComparison.Ordinal))
        {
            return GrpcRefusal.WriteAsync(context, new Status(StatusCode.Unimplemented,
                $"no method at this path: gRPC method paths are case-sensitive and exact (did you mean {grpc.Method.FullName}?)"));
        }
        return next(context);
    }
}
