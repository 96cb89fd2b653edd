using Grpc.Core.Interceptors;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Access;

/// <summary>
/// Records an access event before a read of an attempt's content is served: one event on each attempt the call
/// reads (<see cref="AccessTargets"/> says which methods read what). Recorded first: a read that could not be
/// recorded is not served. A request the method will refuse (malformed or unknown id, a digest no attempt
/// references) is passed on unrecorded and answered by the method itself.
/// </summary>
public sealed class AccessLogInterceptor(AccessLog log, AccessTargets targets) : Interceptor
{
    // Recorded in parallel for a campaign read (each attempt has its own access-log stream, so appends do not
    // conflict), but bounded so that one export of a large campaign does not take every database connection.
    private const int RecordParallelism = 4;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // An AttemptSession read is recorded once its session credential has been checked (inside the method), else
        // every refused intruder's call would also count as a read beside the gate's own refusal event. Still before
        // the answer leaves: a read that could not be recorded is not served.
        if (context.Method.StartsWith(AttemptSessionPrefix, StringComparison.Ordinal))
        {
            var response = await continuation(request, context);
            await RecordAsync(request, context);
            return response;
        }
        await RecordAsync(request, context);
        return await continuation(request, context);
    }

    private static readonly string AttemptSessionPrefix = $"/{V1.AttemptSession.Descriptor.FullName}/";

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await RecordAsync(request, context);
        await continuation(request, responseStream, context);
    }

    private async Task RecordAsync(object request, ServerCallContext context)
    {
        var reads = await targets.ResolveAsync(context.Method, request, context.CancellationToken);
        if (reads.Count == 0) return;
        // Recorded by the method's short name, as before the API was split into services.
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        var principal = CallerIdentity.Principal(context);
        var role = CallerIdentity.Role(context);
        await Parallel.ForEachAsync(reads, new ParallelOptions { MaxDegreeOfParallelism = RecordParallelism, CancellationToken = context.CancellationToken },
            (t, ct) => new ValueTask(log.RecordAsync(t.AttemptId, principal, role, method, t.Detail, ct)));
    }
}
