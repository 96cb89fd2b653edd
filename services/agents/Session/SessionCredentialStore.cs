using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ReBench.Agents.Session;

/// <summary>
/// The session credential of each attempt this service runs, as the orchestrator handed it over in StartRun (a relaunch
/// hands over a new one, which replaces the old). Held in memory only: it is a secret, never logged or returned.
/// </summary>
public sealed class SessionCredentialStore
{
    /// <summary>The header the orchestrator reads it from (orchestrator Supervision/SessionCredentials.cs).</summary>
    public const string Header = "x-rebench-session";

    private readonly ConcurrentDictionary<string, string> _byAttempt = new(StringComparer.OrdinalIgnoreCase);

    public void Set(Guid attemptId, string credential) => _byAttempt[attemptId.ToString()] = credential;

    public string? Find(string attemptId) => _byAttempt.GetValueOrDefault(attemptId);
}

/// <summary>
/// Adds the attempt's session credential to every call of the "Session" client (AttemptSession), whichever driver
/// makes it: every request of that API names its attempt in attempt_id, so no driver has to thread the credential
/// through (the replay driver's GetRecordedActions, the modular driver's resume reads and AIDE's notes included).
/// </summary>
public sealed class SessionCredentialInterceptor(SessionCredentialStore store) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithCredential(request, context));

    private ClientInterceptorContext<TRequest, TResponse> WithCredential<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class where TResponse : class
    {
        if (request is not IMessage message || message.Descriptor.FindFieldByName("attempt_id") is not { } field) return context;
        if (field.Accessor.GetValue(message) is not string attemptId || store.Find(attemptId) is not { } credential) return context;
        var headers = new Metadata();
        if (context.Options.Headers is { } existing) foreach (var entry in existing) headers.Add(entry);
        headers.Add(SessionCredentialStore.Header, credential);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }
}
