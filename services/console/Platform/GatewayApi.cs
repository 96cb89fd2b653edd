using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ReBench.Orchestrator.V1;
using ReBench.WebConsole.Sessions;

namespace ReBench.WebConsole.Platform;

/// <summary>
/// The gateway's public gRPC API, the console's only source of data: one HTTP/2 channel, each call carrying the
/// signed-in user's key in x-api-key, so the console can show nothing that user could not read with the CLI.
/// </summary>
public sealed class GatewayApi(GrpcChannel channel)
{
    public Clients For(ConsoleSession session) => For(session.ApiKey);

    public Clients For(string apiKey)
    {
        var invoker = channel.Intercept(metadata =>
        {
            metadata.Add("x-api-key", apiKey);
            return metadata;
        });
        return new Clients(new Campaigns.CampaignsClient(invoker), new Attempts.AttemptsClient(invoker), new Audit.AuditClient(invoker));
    }

    public sealed record Clients(Campaigns.CampaignsClient Campaigns, Attempts.AttemptsClient Attempts, Audit.AuditClient Audit);

    /// <summary>
    /// Checks a key with one gateway call and learns its role from the answer. The gateway has no "who am I" method, so
    /// the call is CancelAttempt with no attempt id: an unknown key is UNAUTHENTICATED, an auditor's key
    /// PERMISSION_DENIED (the gateway's role check, before anything reaches the orchestrator), an admin's key
    /// INVALID_ARGUMENT (the orchestrator refuses the empty id). Nothing is cancelled in any case.
    /// </summary>
    public async Task<SignInResult> SignInAsync(string apiKey, CancellationToken ct)
    {
        try
        {
            await For(apiKey).Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = "", Reason = "console sign-in check" }, cancellationToken: ct);
            return new SignInResult(null, "the gateway accepted a sign-in check it should have refused; not signing in");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
        {
            return new SignInResult(null, "That API key is not valid: the gateway refused it.");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
        {
            return new SignInResult(ConsoleRole.Auditor, null);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return new SignInResult(ConsoleRole.Admin, null);
        }
        catch (RpcException e)
        {
            return new SignInResult(null, $"The gateway could not check the key ({e.StatusCode}); try again.");
        }
    }

    public sealed record SignInResult(ConsoleRole? Role, string? Refusal);
}
