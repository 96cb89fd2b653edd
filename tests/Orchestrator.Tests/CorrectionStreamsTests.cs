using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// The offline check of an exported corrections stream against forgeries that keep a valid chain (links are not
/// signed, so anyone can recompute them): each is refused with a message, never an exception.
/// </summary>
public sealed class CorrectionStreamsTests
{
    private static readonly IReadOnlyDictionary<string, byte[]> NoKeys = new Dictionary<string, byte[]>();

    /// <summary>A correctly linked stream of the given (type, body) events.</summary>
    private static CorrectionsHistory Chained(Guid attempt, params (string Type, string Body)[] events)
    {
        var stream = EventChain.StreamKey(CorrectionStreams.StreamId(attempt));
        var prev = EventChain.Genesis;
        var stored = new List<StoredEvent>();
        foreach (var (type, body) in events)
        {
            prev = EventChain.Link(prev, stream, stored.Count + 1, type, body);
            stored.Add(new StoredEvent(stored.Count + 1, type, body, prev));
        }
        return new CorrectionsHistory(attempt.ToString(), stream, stored, stored.Count);
    }

    private static string Body(Guid attempt) => $"{{\"AttemptId\":\"{attempt}\",\"Kind\":\"note\",\"Reason\":\"r\"}}";

    [Fact]
    public void A_well_formed_stream_verifies()
    {
        var a = Guid.NewGuid();
        var r = CorrectionStreams.Verify(Chained(a, (CorrectionStreams.EventType, Body(a)), (CorrectionStreams.EventType, Body(a))), NoKeys);
        Assert.True(r.Ok, r.Problem);
        Assert.Equal(2, r.EventsChecked);
    }

    [Fact]
    public void Well_linked_forgeries_are_refused_with_a_message()
    {
        var a = Guid.NewGuid();
        var cases = new (CorrectionsHistory History, string Problem)[]
        {
            (Chained(a, (CorrectionStreams.EventType, Body(a)), (CorrectionStreams.EventType, "5")), "correction 2 has a body that is not a JSON object"),
            (Chained(a, (CorrectionStreams.EventType, Body(Guid.NewGuid()))), "correction 1 names attempt"),
            (Chained(a, (CorrectionStreams.EventType, "{\"Kind\":\"note\"}")), "correction 1 names attempt"),
            (Chained(a, ("attempt_completed", Body(a))), "event 1 is a attempt_completed, not a correction"),
            (Chained(a, (CorrectionStreams.EventType, Body(a)), ("attempt_sealed", "[]")), "event 2 is a attempt_sealed, not a correction"),
            (Chained(a, (CorrectionStreams.EventType, Body(a).Replace(a.ToString(), a.ToString("N")))), "correction 1 names attempt"),
            (Chained(a, (CorrectionStreams.EventType, Body(a))) with { AttemptId = Guid.NewGuid().ToString() }, "is not the corrections stream of attempt"),
            (Chained(a, (CorrectionStreams.EventType, Body(a))) with { AttemptId = "not-a-guid" }, "is not the corrections stream of attempt"),
            (Chained(a, (CorrectionStreams.EventType, Body(a))) with { ExpectedCount = 2 }, "events from number 2 on were removed"),
        };
        foreach (var (history, problem) in cases)
        {
            var r = CorrectionStreams.Verify(history, NoKeys);
            Assert.False(r.Ok, problem);
            Assert.Contains(problem, r.Problem);
        }
    }

    [Fact]
    public void A_well_linked_seal_whose_body_is_no_object_is_reported_not_thrown_on()
    {
        var a = Guid.NewGuid();
        var stream = EventChain.StreamKey(a);
        var first = EventChain.Link(EventChain.Genesis, stream, 1, "attempt_scheduled", "{}");
        var seal = EventChain.Link(first, stream, 2, ChainVerifier.SealType, "[1,2]");
        var r = ChainVerifier.Verify(stream, [new StoredEvent(1, "attempt_scheduled", "{}", first), new StoredEvent(2, ChainVerifier.SealType, "[1,2]", seal)], NoKeys);
        Assert.False(r.Ok);
        Assert.Equal(2, r.BrokenAt);
        Assert.Contains("the seal at event 2 has a body that is not a JSON object", r.Problem);
    }
}
