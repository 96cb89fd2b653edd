using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Corrections through the orchestrator's real gRPC endpoint on the real PostgreSQL: new events with actor and
/// reason in a hash-chained stream beside the sealed attempt stream, never a rewrite of it.
/// </summary>
public sealed class CorrectionsTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private readonly AuditFixtures _f = new(host);

    private Task<TRes> CallAsync<TReq, TRes>(string name, TReq request, MessageParser<TRes> parser, Metadata? headers = null)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        MethodByName.UnaryAsync(Channel, name, request, parser, headers, V1.OrchestratorReflection.Descriptor);

    private Task<Correction> RecordAsync(Guid id, string kind, string reason, string detail = "") =>
        CallAsync("RecordCorrection", new RecordCorrectionRequest { AttemptId = id.ToString(), Kind = kind, Reason = reason, Detail = detail },
            Correction.Parser, TestPlatformKey.As("alice", "admin"));

    private Task<ListCorrectionsResponse> ListAsync(Guid id) =>
        CallAsync("ListCorrections", new ListCorrectionsRequest { AttemptId = id.ToString() }, ListCorrectionsResponse.Parser);

    private async Task<Guid> SealedAttemptAsync() => (await _f.AttemptWithBlobsAsync((await _f.CampaignAsync(1)).Attempts[0])).Id;

    [Fact]
    public async Task Corrections_are_new_events_with_actor_and_reason_beside_the_sealed_stream()
    {
        var id = await SealedAttemptAsync();
        Assert.Empty((await ListAsync(id)).Corrections);
        var first = await RecordAsync(id, "score_invalid", "the scorer read a stale file", "{\"event\":5}");
        Assert.Equal((1L, "alice", "admin"), (first.Number, first.Actor, first.Role));
        await RecordAsync(id, "note", "checked again: the stale file was the task's own");

        var list = await ListAsync(id);
        Assert.True(list.ChainOk, list.Problem);
        Assert.Equal([(1L, "score_invalid", "the scorer read a stale file"), (2L, "note", "checked again: the stale file was the task's own")],
            list.Corrections.Select(c => (c.Number, c.Kind, c.Reason)));
        Assert.Equal("{\"event\":5}", list.Corrections[0].Detail);
        Assert.All(list.Corrections, c => Assert.Equal(id.ToString(), c.AttemptId));

        // The sealed attempt stream is untouched: same six events, still verifies.
        var report = await _f.Get<AttemptAuditor>().VerifyAsync(id, CancellationToken.None);
        Assert.True(report.Ok, report.Problem);
        Assert.Equal(6, report.EventsChecked);
    }

    [Fact]
    public async Task Corrections_recorded_at_once_are_all_kept_in_one_chain()
    {
        var id = await SealedAttemptAsync();
        await Task.WhenAll(Enumerable.Range(1, 5).Select(i => RecordAsync(id, "note", $"reviewer {i}")));
        var list = await ListAsync(id);
        Assert.True(list.ChainOk, list.Problem);
        Assert.Equal([1L, 2, 3, 4, 5], list.Corrections.Select(c => c.Number));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"reviewer {i}").Order(), list.Corrections.Select(c => c.Reason).Order());
    }

    [Fact]
    public async Task An_edited_or_deleted_correction_is_located()
    {
        var id = await SealedAttemptAsync();
        foreach (var reason in new[] { "one", "two", "three" }) await RecordAsync(id, "note", reason);
        var stream = AttemptCorrections.StreamId(id);
        Assert.Equal(1, await _f.SqlAsync("update mt_events set data = data - 'Reason' where stream_id = $1 and version = 2", stream));
        var list = await ListAsync(id);
        Assert.False(list.ChainOk);
        Assert.Contains("event 2", list.Problem);
        Assert.Equal(["one", "", "three"], list.Corrections.Select(c => c.Reason)); // still listed, for the auditor to see

        var other = await SealedAttemptAsync();
        foreach (var reason in new[] { "one", "two", "three" }) await RecordAsync(other, "note", reason);
        Assert.Equal(1, await _f.SqlAsync("delete from mt_events where stream_id = $1 and version = 2", AttemptCorrections.StreamId(other)));
        list = await ListAsync(other);
        Assert.False(list.ChainOk);
        Assert.Contains("event 2 is missing", list.Problem);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_clear_status()
    {
        var id = await SealedAttemptAsync();
        async Task Refused(StatusCode code, string contains, Func<Task> call)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(code, e.StatusCode);
            Assert.Contains(contains, e.Status.Detail);
        }
        await Refused(StatusCode.InvalidArgument, "kind", () => RecordAsync(id, "Not A Kind", "why"));
        await Refused(StatusCode.InvalidArgument, "reason is required", () => RecordAsync(id, "note", "  "));
        await Refused(StatusCode.InvalidArgument, "reason is", () => RecordAsync(id, "note", new string('x', AttemptCorrections.MaxReason + 1)));
        var unknown = Guid.NewGuid();
        await Refused(StatusCode.NotFound, $"attempt {unknown} does not exist", () => RecordAsync(unknown, "note", "why"));
        await Refused(StatusCode.NotFound, "does not exist", () => ListAsync(unknown));
        await Refused(StatusCode.InvalidArgument, "attempt_id", () => CallAsync("ListCorrections", new ListCorrectionsRequest { AttemptId = "nope" }, ListCorrectionsResponse.Parser));
        Assert.Empty((await ListAsync(id)).Corrections);
    }

    private async Task<List<V1.StoredEvent>> ExportAsync(string attemptId)
    {
        var method = MethodByName.Of<ExportCorrectionsRequest, V1.StoredEvent>(MethodType.ServerStreaming, "ExportCorrections",
            V1.StoredEvent.Parser, V1.Audit.Descriptor.File);
        using var call = Channel.CreateCallInvoker().AsyncServerStreamingCall(method, null, new CallOptions(), new ExportCorrectionsRequest { AttemptId = attemptId });
        var all = new List<V1.StoredEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync()) all.Add(e);
        return all;
    }

    [Fact]
    public async Task Export_corrections_streams_the_rows_as_stored_and_validates_its_request()
    {
        var id = await SealedAttemptAsync();
        Assert.Empty(await ExportAsync(id.ToString()));
        await RecordAsync(id, "note", "one");
        await RecordAsync(id, "score_invalid", "two");
        var rows = await ExportAsync(id.ToString());
        Assert.Equal([(1L, "attempt_correction_recorded"), (2L, "attempt_correction_recorded")], rows.Select(r => (r.Version, r.EventType)));
        // The rows verify offline as a corrections stream of this attempt, with the same check the export verifier runs.
        var history = new ReBench.Audit.CorrectionsHistory(id.ToString(), ReBench.Audit.EventChain.StreamKey(AttemptCorrections.StreamId(id)),
            rows.Select(r => new ReBench.Audit.StoredEvent(r.Version, r.EventType, r.DataJson, r.ChainHash)).ToList(), 2);
        var report = ReBench.Audit.CorrectionStreams.Verify(history, _f.Get<PlatformKey>().Trusted);
        Assert.True(report.Ok, report.Problem);
        // Someone else's corrections presented as this attempt's: refused.
        var other = await SealedAttemptAsync();
        var misplaced = ReBench.Audit.CorrectionStreams.Verify(history with { AttemptId = other.ToString() }, _f.Get<PlatformKey>().Trusted);
        Assert.False(misplaced.Ok);
        Assert.Contains("is not the corrections stream of attempt", misplaced.Problem);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => ExportAsync(Guid.NewGuid().ToString()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var bad = await Assert.ThrowsAsync<RpcException>(() => ExportAsync("nope"));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("attempt_id", bad.Status.Detail);
    }

    [Fact]
    public void The_corrections_stream_id_is_deterministic_and_distinct_from_the_access_log()
    {
        var id = Guid.NewGuid();
        Assert.Equal(AttemptCorrections.StreamId(id), AttemptCorrections.StreamId(id));
        Assert.NotEqual(id, AttemptCorrections.StreamId(id));
        Assert.NotEqual(Access.AccessLog.StreamId(id), AttemptCorrections.StreamId(id));
    }
}
