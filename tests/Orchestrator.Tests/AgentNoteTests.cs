using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>RecordAgentNote (agent_note_recorded) through the orchestrator's real gRPC endpoint on the real PostgreSQL.</summary>
public sealed class AgentNoteTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private AttemptSession.AttemptSessionClient Session => new(Channel);

    // Each attempt's session credential, as its driver would have been handed it at launch.
    private readonly Dictionary<string, string> _credentials = [];

    private AsyncUnaryCall<AgentNoteResult> Record(AgentNoteRequest request) =>
        Session.RecordAgentNoteAsync(request, new Metadata { { SessionCredentials.Header, _credentials[request.AttemptId] } });

    private async Task<Guid> RunningAttemptAsync()
    {
        var (id, credential) = await RunningAttemptWithCredentialAsync("notes");
        _credentials[id.ToString()] = credential;
        return id;
    }

    private async Task<List<(string EventTypeName, object Data)>> EventsAsync(Guid id)
    {
        await using var q = Get<IDocumentStore>().QuerySession();
        return [.. (await q.Events.FetchStreamAsync(id)).Select(e => (e.EventTypeName, e.Data))];
    }

    private static AgentNoteRequest Note(Guid id, string step, string kind = "aide_node", string json = """{"node":0,"plan":"loop"}""") =>
        new() { AttemptId = id.ToString(), StepId = step, Kind = kind, Json = json };

    [Fact]
    public async Task A_note_is_stored_once_per_step_id_as_agent_note_recorded()
    {
        var id = await RunningAttemptAsync();

        var first = await Record(Note(id, "n1"));
        var again = await Record(Note(id, "n1", json: """{"node":0,"plan":"a different retry"}"""));
        var second = await Record(Note(id, "n2", "aide_tree", """{"best_node":0}"""));

        Assert.Equal((3L, 3L, 4L), (first.Version, again.Version, second.Version));
        var events = await EventsAsync(id);
        var notes = events.Where(e => e.EventTypeName == "agent_note_recorded").Select(e => (AgentNoteRecorded)e.Data).ToList();
        Assert.Equal([("n1", "aide_node", """{"node":0,"plan":"loop"}"""), ("n2", "aide_tree", """{"best_node":0}""")],
            notes.Select(n => (n.StepId, n.Kind, n.Json)));
        Assert.All(notes, n => Assert.Equal("agent", n.Actor));
    }

    [Theory]
    [InlineData("", "aide_node", "{}", "step_id")]
    [InlineData("s", "Aide Node", "{}", "kind must be 1-64 characters of [a-z0-9_]")]
    [InlineData("s", "", "{}", "kind must be")]
    [InlineData("s", "aide_node", "[1,2]", "json must be a JSON object, got a Array")]
    [InlineData("s", "aide_node", "{\"plan\":", "json is not valid JSON")]
    public async Task Bad_notes_are_refused_naming_the_problem(string step, string kind, string json, string problem)
    {
        var id = await RunningAttemptAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() => Record(Note(id, step, kind, json)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(problem, e.Status.Detail);
    }

    [Fact]
    public async Task A_note_larger_than_64_KiB_is_refused()
    {
        var id = await RunningAttemptAsync();
        var big = $$"""{"plan":"{{new string('x', 70_000)}}"}""";

        var e = await Assert.ThrowsAsync<RpcException>(() => Record(Note(id, "big", json: big)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("json must be at most 65536 characters", e.Status.Detail);
    }

    [Fact]
    public async Task After_the_attempt_ended_a_new_note_is_refused_and_a_retried_one_returns_without_touching_the_sealed_stream()
    {
        var id = await RunningAttemptAsync();
        await Record(Note(id, "before"));
        await Get<AttemptStore>().AppendAsync(id, s => AttemptDecider.Fail(s, "test end", T0), CancellationToken.None);
        var sealedCount = (await EventsAsync(id)).Count;

        var late = await Assert.ThrowsAsync<RpcException>(() => Record(Note(id, "after")).ResponseAsync);
        // Through the API even a retry is refused once the attempt has ended (its session credential no longer works);
        // the handler itself (which a human's steps use) still returns the recorded note for a retry.
        var retried = await Assert.ThrowsAsync<RpcException>(() => Record(Note(id, "before")).ResponseAsync);
        await Get<AttemptSessionHandler>().RecordAgentNoteAsync(id, "before", "aide_node", """{"node":0,"plan":"loop"}""", CancellationToken.None);
        var handlerLate = await Assert.ThrowsAnyAsync<Exception>(() =>
            Get<AttemptSessionHandler>().RecordAgentNoteAsync(id, "after", "aide_node", "{}", CancellationToken.None));

        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        Assert.Contains("has ended", late.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, retried.StatusCode);
        Assert.Contains("no more steps are accepted", handlerLate.Message);
        Assert.Equal(sealedCount, (await EventsAsync(id)).Count);
        Assert.Equal("attempt_sealed", (await EventsAsync(id))[^1].EventTypeName);
    }
}
