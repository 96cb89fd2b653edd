using ReBench.Audit;

namespace ReBench.Orchestrator.Streams;

/// <summary>
/// Links every appended event into its stream's hash chain (docs/audit.md). The link is written as a Marten event
/// header (mt_events.headers), so it commits in the same INSERT, hence the same transaction, as the event itself.
/// </summary>
public sealed class AuditChain(IDocumentStore store, PlatformKey key, TimeProvider time)
{
    private Dictionary<Type, string>? _names;

    /// <summary>The stored type name Marten gives an event (snake_case of its class name).</summary>
    public string TypeName(object e)
    {
        _names ??= store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventType, t => t.EventTypeName);
        return _names.TryGetValue(e.GetType(), out var name)
            ? name
            : throw new InvalidOperationException($"event type {e.GetType().Name} is not registered with the event store");
    }

    /// <summary>The link stored on a read event, or null for an event written before the chain existed.</summary>
    public static string? LinkOf(IEvent e) => e.Headers is { } h && h.TryGetValue(EventChain.HeaderName, out var v) ? v?.ToString() : null;

    /// <summary>
    /// Appends events to a stream at version <paramref name="version"/> (optimistic: Marten checks the stream is still
    /// there) with their links; with <paramref name="seal"/>, an <see cref="AttemptSealed"/> over them follows in
    /// the same transaction. Returns every event appended and the new head link.
    /// </summary>
    public (object[] Events, string Head) Append(IDocumentSession session, Guid stream, long version, string? prev, object[] events, bool seal) =>
        Append(session, stream, version, prev, events, seal ? (v, head) => Seal(stream, v, head) : null);

    /// <summary>
    /// Appends with links; <paramref name="seal"/>, when given, makes the event that follows them in the same
    /// transaction from the head version and link (an attempt's or a campaign's seal).
    /// </summary>
    public (object[] Events, string Head) Append(IDocumentSession session, Guid stream, long version, string? prev, object[] events, Func<long, string, object>? seal)
    {
        var links = Links(stream, version + 1, prev, events);
        if (seal is not null)
        {
            var headVersion = version + events.Length;
            var sealEvent = seal(headVersion, links[^1]);
            links = [.. links, .. Links(stream, headVersion + 1, links[^1], [sealEvent])];
            events = [.. events, sealEvent];
        }
        var action = session.Events.Append(stream, version + events.Length, events);
        Stamp(action, links);
        return (events, links[^1]);
    }

    /// <summary>Starts a stream with its first event, linked to the genesis value.</summary>
    public string StartStream<TAggregate>(IDocumentSession session, Guid stream, object first) where TAggregate : class
    {
        var links = Links(stream, 1, EventChain.Genesis, [first]);
        Stamp(session.Events.StartStream<TAggregate>(stream, first), links);
        return links[0];
    }

    private AttemptSealed Seal(Guid attemptId, long headVersion, string head)
    {
        var signature = key.Signer.Sign(EventChain.StreamKey(attemptId), headVersion, head);
        return new AttemptSealed(attemptId, headVersion, head, Seals.Algorithm, key.KeyId, Convert.ToBase64String(signature), time.GetUtcNow());
    }

    /// <summary>A campaign's seal over its head link and its attempts' seals, in the campaign's attempt order.</summary>
    public CampaignSealed SealCampaign(Guid campaignId, long headVersion, string head, IReadOnlyList<CampaignAttemptSeal> attempts)
    {
        var message = CampaignSeals.Message(EventChain.StreamKey(campaignId), headVersion, head,
            attempts.Select(a => new AttemptSealRef(EventChain.StreamKey(a.AttemptId), a.HeadHash, a.Signature)));
        return new CampaignSealed(campaignId, headVersion, head, [.. attempts], Seals.Algorithm, key.KeyId,
            Convert.ToBase64String(key.Signer.SignMessage(message)), time.GetUtcNow());
    }

    private string[] Links(Guid stream, long firstVersion, string? prev, IReadOnlyList<object> events)
    {
        // A stream written before the chain existed has no link to continue from; its verification reports that.
        var link = prev ?? EventChain.Genesis;
        var serializer = store.Options.Serializer();
        var links = new string[events.Count];
        for (var i = 0; i < events.Count; i++)
            links[i] = link = EventChain.Link(link, stream, firstVersion + i, TypeName(events[i]), serializer.ToJson(events[i]));
        return links;
    }

    private static void Stamp(StreamAction action, string[] links)
    {
        if (action.Events.Count != links.Length)
            throw new InvalidOperationException($"stream {action.Id} has {action.Events.Count} pending events in this session, expected {links.Length}");
        for (var i = 0; i < links.Length; i++) action.Events[i].SetHeader(EventChain.HeaderName, links[i]);
    }
}
