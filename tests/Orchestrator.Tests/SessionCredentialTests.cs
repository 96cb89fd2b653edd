using ReBench.Orchestrator.Access;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The session-credential check of the AttemptSession API (Grpc/SessionGate.cs) through the orchestrator's real gRPC
/// endpoint on the real PostgreSQL. The end-to-end attack through the gateway is SessionCredentialEndToEndTests.
/// </summary>
public sealed class SessionCredentialTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private AttemptSession.AttemptSessionClient Session => new(Channel);

    private Task<(Guid Id, string Credential)> RunningAttemptAsync() => RunningAttemptWithCredentialAsync("session");

    private static Metadata With(string? credential) => credential is null ? [] : new Metadata { { SessionCredentials.Header, credential } };

    private Task<AgentNoteResult> NoteAsync(Guid id, string step, string? credential) =>
        Session.RecordAgentNoteAsync(new AgentNoteRequest { AttemptId = id.ToString(), StepId = step, Kind = "aide_node", Json = "{}" }, With(credential)).ResponseAsync;

    private async Task<List<string>> EventTypesAsync(Guid id)
    {
        await using var q = Get<IDocumentStore>().QuerySession();
        return [.. (await q.Events.FetchStreamAsync(id)).Select(e => e.EventTypeName)];
    }

    [Fact]
    public async Task A_missing_malformed_or_foreign_credential_is_refused_with_an_access_event_and_nothing_appended()
    {
        var (a, aCredential) = await RunningAttemptAsync();
        var (_, bCredential) = await RunningAttemptAsync();
        var before = await EventTypesAsync(a);

        var missing = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "x1", null));
        var malformed = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "x2", "short"));
        var foreign = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "x3", bCredential));
        // A credential that differs from A's in its last character only: refused the same way, saying nothing of how close.
        var near = aCredential[..^1] + (aCredential[^1] == 'A' ? 'B' : 'A');
        var nearMiss = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "x4", near));

        Assert.Equal((StatusCode.Unauthenticated, StatusCode.Unauthenticated, StatusCode.PermissionDenied, StatusCode.PermissionDenied),
            (missing.StatusCode, malformed.StatusCode, foreign.StatusCode, nearMiss.StatusCode));
        Assert.Contains("missing session credential", missing.Status.Detail);
        Assert.Contains("malformed session credential", malformed.Status.Detail);
        Assert.Equal(foreign.Status.Detail, nearMiss.Status.Detail);
        Assert.DoesNotContain(bCredential, foreign.Status.Detail);
        Assert.Equal(before, await EventTypesAsync(a));
        var access = await Get<AccessLog>().ListAsync(a, CancellationToken.None);
        Assert.True(access.ChainOk, access.Problem);
        Assert.Equal(["refused: no session credential", "refused: malformed session credential",
            "refused: session credential not this attempt's", "refused: session credential not this attempt's"], access.Events.Select(e => e.Detail));
        Assert.All(access.Events, e => Assert.Equal("AttemptSession/RecordAgentNote", e.Method));

        // Control: A's own credential is accepted and its note recorded.
        await NoteAsync(a, "own", aCredential);
        Assert.Contains("agent_note_recorded", await EventTypesAsync(a));
    }

    [Fact]
    public async Task A_relaunch_replaces_the_credential_and_only_its_hash_is_stored()
    {
        var (a, first) = await RunningAttemptAsync();
        var second = await Get<SessionCredentials>().IssueAsync(a, CancellationToken.None);

        var replaced = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "r1", first));
        await NoteAsync(a, "r2", second);

        Assert.Equal(StatusCode.PermissionDenied, replaced.StatusCode);
        Assert.Equal(43, second.Length);
        await using var q = Get<IDocumentStore>().QuerySession();
        var record = await q.LoadAsync<SessionCredentialRecord>(a);
        Assert.NotNull(record);
        Assert.Equal(2, record.Generation);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(second))), record.Sha256);
        var json = await q.Json.FindByIdAsync<SessionCredentialRecord>(a) ?? "";
        Assert.DoesNotContain(second, json);
        Assert.DoesNotContain(first, json);
        // After a restart (an empty cache) the stored hash alone decides.
        var restarted = new SessionCredentials(Get<IDocumentStore>(), TimeProvider.System);
        Assert.True(await restarted.MatchesAsync(a, second, CancellationToken.None));
        Assert.False(await restarted.MatchesAsync(a, first, CancellationToken.None));
    }

    [Fact]
    public async Task Once_the_attempt_has_ended_its_own_credential_is_refused_for_reads_and_steps()
    {
        var (a, credential) = await RunningAttemptAsync();
        await Session.ScoreLogAsync(new ScoreLogRequest { AttemptId = a.ToString() }, With(credential));
        await Get<AttemptStore>().AppendAsync(a, s => AttemptDecider.Fail(s, "test end", T0), CancellationToken.None);

        var log = await Assert.ThrowsAsync<RpcException>(() => Session.ScoreLogAsync(new ScoreLogRequest { AttemptId = a.ToString() }, With(credential)).ResponseAsync);
        var history = await Assert.ThrowsAsync<RpcException>(() =>
            Session.GetStepHistoryAsync(new GetStepHistoryRequest { AttemptId = a.ToString() }, With(credential)).ResponseAsync);
        var note = await Assert.ThrowsAsync<RpcException>(() => NoteAsync(a, "late", credential));

        Assert.All(new[] { log, history, note }, e => Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode));
        Assert.Contains($"attempt {a} has ended (failed)", log.Status.Detail);
    }

    [Fact]
    public async Task A_malformed_request_is_invalid_whoever_sends_it()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Session.ScoreLogAsync(new ScoreLogRequest { AttemptId = "not-an-id" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("attempt_id", e.Status.Detail);
    }
}
