namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Issue 16, finding 1: the attempt id used to be the only credential on the gateway's internal listener, so a caller
/// with no key ran `echo INTRUDER` in another attempt, paused its clock, recorded a $12,345.6 model call and read its
/// transcript. Here, while attempt A runs, a caller with no credential, with attempt B's credential, and with A's own
/// credential after a relaunch replaced it tries each of those on A through the real gateway; every call is refused,
/// each refusal is an access event on A, and A's sealed stream holds nothing of it. Control: A's own driver finishes
/// A normally (with its new credential after the relaunch), and once A has ended its credential is refused too.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class SessionCredentialEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string Marker = "intruder";

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Only_the_attempts_current_credential_acts_in_it_or_reads_it()
    {
        var client = Platform.Orchestrator();
        var a = (await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("session-a", TimeSpan.FromMinutes(4),
            new { run = "sleep 45; echo A-FIRST", timeout = 120 },
            new { run = "echo A-DONE" },
            new { submit = "" }))).AttemptIds.Single();
        var b = (await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("session-b", TimeSpan.FromMinutes(4),
            new { run = "sleep 45", timeout = 120 },
            new { submit = "" }))).AttemptIds.Single();
        var aFirst = await CredentialsAsync(a, 1);
        var bCredential = (await CredentialsAsync(b, 1))[^1];

        var none = await AttackAsync(Platform.Session(), a, "none");
        Assert.All(none, e => Assert.Equal(StatusCode.Unauthenticated, e.StatusCode));
        Assert.All(none, e => Assert.Contains("missing session credential", e.Status.Detail));
        var malformed = await AttackAsync(Platform.Session("not-a-credential"), a, "malformed");
        Assert.All(malformed, e => Assert.Equal(StatusCode.Unauthenticated, e.StatusCode));
        var foreign = await AttackAsync(Platform.Session(bCredential), a, "foreign");
        Assert.All(foreign, e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.All(foreign, e => Assert.Contains($"not attempt {a}'s current one", e.Status.Detail));
        Assert.All(foreign, e => Assert.DoesNotContain(bCredential, e.Status.Detail));

        // The agents service loses its runs; the orchestrator relaunches A's with a new credential, replacing the first.
        await Platform.RestartAgentsAsync();
        var aCredentials = await CredentialsAsync(a, 2);
        Assert.NotEqual(aFirst[0], aCredentials[^1]);
        var replaced = await AttackAsync(Platform.Session(aFirst[0]), a, "replaced");
        Assert.All(replaced, e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));

        // Control: A's own driver, with its current credential, finishes A normally.
        var attempts = await Waits.CampaignFinishedAsync(client, (await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = a })).CampaignId,
            TimeSpan.FromMinutes(3));
        Assert.Equal(AttemptStatus.Completed, attempts.Single().Status);
        var events = await Waits.EventsAsync(client, a);
        Assert.Contains(events, e => e.EventType == "action_completed" && e.Field("Stdout").GetString() == "A-DONE\n");
        Assert.Contains(events, e => e.EventType == "agent_relaunched");
        // Nothing of the refused calls is in A's sealed stream: no intruder's step, command, note, model call or pause.
        Assert.DoesNotContain(events, e => e.DataJson.Contains(Marker, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(events, e => e.EventType is "model_call_completed" or "agent_note_recorded" or "clock_paused");

        // Each refused call is an access event on A, naming the method; the chain of A's access log verifies.
        var access = await client.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = a });
        Assert.True(access.ChainOk, access.Problem);
        var refusals = access.Events.Where(e => e.Detail.StartsWith("refused:", StringComparison.Ordinal)).ToList();
        foreach (var r in refusals) output.WriteLine($"{r.Method} {r.Principal} {r.Detail}");
        Assert.Equal(none.Count + malformed.Count + foreign.Count + replaced.Count, refusals.Count);
        Assert.Equal(none.Count, refusals.Count(r => r.Detail == "refused: no session credential"));
        Assert.Equal(foreign.Count + replaced.Count, refusals.Count(r => r.Detail == "refused: session credential not this attempt's"));
        Assert.Equal(["AttemptSession/Act", "AttemptSession/GetStepHistory", "AttemptSession/PauseClock", "AttemptSession/RecordAgentNote",
            "AttemptSession/RecordModelCall", "AttemptSession/ScoreLog"], refusals.Select(r => r.Method).Distinct().Order());
        Assert.All(refusals, r => Assert.DoesNotContain(bCredential, r.Detail));

        // Once A has ended, even its own current credential is refused, for reads as for steps.
        var own = Platform.Session(aCredentials[^1]);
        var late = await Assert.ThrowsAsync<RpcException>(() => own.ScoreLogAsync(new ScoreLogRequest { AttemptId = a }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        Assert.Contains("has ended", late.Status.Detail);
        late = await Assert.ThrowsAsync<RpcException>(() => own.GetStepHistoryAsync(new GetStepHistoryRequest { AttemptId = a }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        late = await Assert.ThrowsAsync<RpcException>(() => own.ActAsync(new ActRequest
        {
            AttemptId = a, StepId = "late-1", Run = new RunCommand { Command = "echo too late" },
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);

        await Waits.CampaignFinishedAsync(client, (await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = b })).CampaignId,
            TimeSpan.FromMinutes(3));

        // The secrets themselves appear in no service's log, and not in either attempt's events.
        var secrets = aCredentials.Append(bCredential).ToList();
        foreach (var service in new[] { "agents", "orchestrator", "gateway" })
        {
            var log = await File.ReadAllTextAsync(Path.Combine(Platform.LogsDir, $"{service}.log"));
            Assert.All(secrets, secret => Assert.DoesNotContain(secret, log));
        }
        var bEvents = await Waits.EventsAsync(client, b);
        Assert.All(secrets, secret => Assert.DoesNotContain(events.Concat(bEvents), e => e.DataJson.Contains(secret, StringComparison.Ordinal)));
    }

    /// <summary>Each call the finding made, on attempt <paramref name="a"/>; every one must be refused.</summary>
    private static async Task<List<RpcException>> AttackAsync(AttemptSession.AttemptSessionClient session, string a, string tag)
    {
        var step = $"{Marker}-{tag}";
        Func<Task>[] calls =
        [
            () => session.ActAsync(new ActRequest { AttemptId = a, StepId = step + "-act", Run = new RunCommand { Command = "echo INTRUDER" } }).ResponseAsync,
            () => session.PauseClockAsync(new PauseClockRequest { AttemptId = a, StepId = step + "-pause", Reason = Marker }).ResponseAsync,
            () => session.RecordModelCallAsync(new ModelCallRecord
            {
                AttemptId = a, StepId = step + "-model", Provider = Marker, Model = Marker, CostUsd = 12345.6, InputTokens = 1, OutputTokens = 1,
            }).ResponseAsync,
            () => session.RecordAgentNoteAsync(new AgentNoteRequest { AttemptId = a, StepId = step + "-note", Kind = Marker, Json = "{\"intruder\":true}" }).ResponseAsync,
            () => session.GetStepHistoryAsync(new GetStepHistoryRequest { AttemptId = a }).ResponseAsync,
            () => session.ScoreLogAsync(new ScoreLogRequest { AttemptId = a }).ResponseAsync,
        ];
        var refused = new List<RpcException>();
        foreach (var call in calls) refused.Add(await Assert.ThrowsAsync<RpcException>(call));
        return refused;
    }

    /// <summary>Waits until the attempt's driver has sent <paramref name="count"/> distinct credentials.</summary>
    private async Task<IReadOnlyList<string>> CredentialsAsync(string attemptId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var seen = Platform.Tap.CredentialsOf(attemptId);
            if (seen.Count >= count) return seen;
            if (DateTime.UtcNow > deadline)
            {
                output.WriteLine(Platform.LogTail("orchestrator", 60));
                throw new TimeoutException($"attempt {attemptId}'s driver sent {seen.Count} credential(s), expected {count}");
            }
            await Task.Delay(200);
        }
    }
}
