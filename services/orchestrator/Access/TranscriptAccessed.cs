namespace ReBench.Orchestrator.Access;

/// <summary>
/// Someone read an attempt's transcript. Stored in the attempt's access-log stream (<see cref="AccessLog.StreamId"/>),
/// never in the attempt stream, which is sealed once the attempt ends.
/// </summary>
/// <param name="Principal">The principal of the call's service token: the API key's id the gateway signed, or service:&lt;name&gt; for a service's own call.</param>
/// <param name="Role">admin | auditor as the gateway forwarded it; "" when called directly.</param>
/// <param name="Method">The gRPC method, e.g. ReadAttemptEvents.</param>
/// <param name="Detail">What else identifies the read (from_version, a blob digest); may be empty.</param>
public sealed record TranscriptAccessed(Guid AttemptId, string Principal, string Role, string Method, string Detail, DateTimeOffset At);
