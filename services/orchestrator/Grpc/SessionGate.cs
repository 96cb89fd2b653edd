using ReBench.Orchestrator.Access;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.Supervision;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Grpc;

/// <summary>Decides whether an AttemptSession call may act on or read its attempt.</summary>
public interface ISessionGate
{
    /// <summary>Returns when the call may go on; otherwise throws the refusal (UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION).</summary>
    ValueTask AuthorizeAsync(Guid attemptId, ServerCallContext context);
}

/// <summary>
/// Every AttemptSession call must carry its attempt's current session credential (header x-rebench-session), minted
/// when the agent was launched (<see cref="SessionCredentials"/>). The attempt id alone proves nothing: any process
/// that reaches the gateway's internal listener can name one.
/// <list type="bullet">
/// <item>missing or malformed: UNAUTHENTICATED (no credential was presented at all);</item>
/// <item>well-formed but not the attempt's current one (another attempt's, one replaced by a relaunch, made up):
///   PERMISSION_DENIED; the message says only that it is not this attempt's, never how close it came;</item>
/// <item>the attempt's own, but the attempt has ended: FAILED_PRECONDITION. The caller proved it is the attempt's driver,
///   so this is the attempt's state, not an authorization failure, and drivers already treat FAILED_PRECONDITION as
///   "the attempt has ended" and stop cleanly.</item>
/// </list>
/// Every refusal of the first two kinds leaves an access event on the targeted attempt (when it exists), so
/// `rebench audit access` shows who tried. Nothing of it goes into the attempt's sealed stream.
/// </summary>
public sealed class SessionGate(SessionCredentials credentials, AttemptStore attempts, AccessLog access, ILogger<SessionGate> logger) : ISessionGate
{
    public async ValueTask AuthorizeAsync(Guid attemptId, ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(SessionCredentials.Header);
        if (string.IsNullOrEmpty(presented))
        {
            await RecordRefusalAsync(attemptId, context, "no session credential");
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"missing session credential: send the attempt's credential (from the agent's launch) in the {SessionCredentials.Header} header"));
        }
        if (!SessionCredentials.IsWellFormed(presented))
        {
            await RecordRefusalAsync(attemptId, context, "malformed session credential");
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"malformed session credential in {SessionCredentials.Header}: expected {SessionCredentials.EncodedLength} characters of URL-safe base64"));
        }
        if (!await credentials.MatchesAsync(attemptId, presented, context.CancellationToken))
        {
            await RecordRefusalAsync(attemptId, context, "session credential not this attempt's");
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"the session credential is not attempt {attemptId}'s current one (another attempt's, replaced by a relaunch, or never issued)"));
        }
        // The attempt store's cached fold is current for every attempt this process writes (it writes them all), so
        // this costs no database read on the Act path; an attempt not seen since a restart is loaded once.
        var state = attempts.Known(attemptId) ?? await attempts.TryLoadAsync(attemptId, context.CancellationToken);
        if (state is { IsTerminal: true })
            throw Guard.FailedPrecondition($"attempt {attemptId} has ended ({state.Phase.ToString().ToLowerInvariant()}): its session credential no longer works");
    }

    private async Task RecordRefusalAsync(Guid attemptId, ServerCallContext context, string why)
    {
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        logger.LogWarning("AttemptSession {Method} on attempt {Attempt} refused: {Why}", method, attemptId, why);
        // Unknown attempts have no access log (it is listed per attempt); the refusal itself is still logged above.
        if (!await access.AttemptExistsAsync(attemptId, context.CancellationToken)) return;
        await access.RecordAsync(attemptId, CallerIdentity.Principal(context), CallerIdentity.Role(context),
            "AttemptSession/" + method, $"refused: {why}", context.CancellationToken);
    }
}
