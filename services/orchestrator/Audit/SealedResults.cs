using ReBench.Audit;
using ReBench.Contracts;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.V1;
using StoredEvent = ReBench.Audit.StoredEvent;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// An attempt's result as its sealed stream says it is (docs/audit.md, "Results bound to the sealed record"). The
/// AttemptFinished the orchestrator publishes and the result derived here for a verification are built by the same
/// function, <see cref="Finished"/>, from the same events, so a stored result differs from the derived one only if
/// something changed it after it was published.
/// </summary>
public sealed class SealedResults(IDocumentStore store, StoredRows rows, PlatformKey key)
{
    /// <summary>Most attempts one call derives (a campaign of a few hundred attempts, or a report over several).</summary>
    public const int MaxAttempts = 5000;

    private Dictionary<string, Type>? _types;

    /// <summary>The integration event of an attempt that ended: what the scoring service stores as its result.</summary>
    public static AttemptFinished Finished(Guid eventId, AttemptState state, string status, DateTimeOffset at, long version, string? chainHash) =>
        new(eventId, state.Id, state.CampaignId, state.TaskId, state.Variant, state.Agent, status, state.Final?.RawScore,
            state.Final?.NormalizedScore, state.Final?.Valid ?? false, at)
        {
            TimeBudgetSeconds = state.TimeBudget.TotalSeconds,
            WorkingSeconds = AttemptDecider.ElapsedMs(state, at) / 1000.0,
            CostUsd = state.CostUsd,
            ModelCalls = state.ModelCalls,
            ScoreTimeline = state.Scores.Select(x => new ScorePoint(x.ElapsedMs, x.Valid, x.RawScore, x.NormalizedScore)).ToList(),
            FinalVersion = version,
            ChainHash = chainHash,
            AuditWork = state.AuditWork,
        };

    /// <summary>The status and time a terminal event records; null for any other event.</summary>
    public static (string Status, DateTimeOffset At)? Terminal(object e) => e switch
    {
        AttemptCompleted c => ("completed", c.At),
        AttemptFailed f => ("failed", f.At),
        AttemptCancelled x => ("cancelled", x.At),
        _ => null,
    };

    /// <summary>Each attempt's result derived from its sealed stream, in the order asked, from one read of all their rows.</summary>
    public async Task<List<BoundResult>> DeriveAsync(IReadOnlyCollection<Guid> attemptIds, CancellationToken ct)
    {
        var streams = await rows.ReadStreamsAsync(attemptIds, ct);
        return attemptIds.Select(id => Derive(id, streams.TryGetValue(id, out var events) ? events : [])).ToList();
    }

    /// <summary>
    /// From the stored rows (what the hash chain covers, not Marten's reading of them): the chain and seal must verify,
    /// then the events up to the terminal one are folded as the publisher folds them.
    /// </summary>
    public BoundResult Derive(Guid attemptId, IReadOnlyList<StoredEvent> events)
    {
        var id = attemptId.ToString();
        if (events.Count == 0) return new BoundResult { AttemptId = id, Unknown = true, Problem = "the attempt has no stream in the sealed record" };
        var chain = ChainVerifier.Verify(EventChain.StreamKey(attemptId), events, key.Trusted);
        var terminal = events.FirstOrDefault(e => ChainVerifier.AttemptTerminalTypes.Contains(e.Type));
        if (!chain.Ok)
            return new BoundResult { AttemptId = id, Finished = terminal is not null, Problem = $"its stream is broken at event {chain.BrokenAt}: {chain.Problem}" };
        if (terminal is null) return new BoundResult { AttemptId = id, Finished = false };
        if (!chain.Sealed || chain.SealedVersion < terminal.Version)
            return new BoundResult { AttemptId = id, Finished = true, Problem = $"it ended at event {terminal.Version} but no seal covers that event" };

        var data = new List<object>();
        foreach (var e in events.TakeWhile(e => e.Version <= terminal.Version))
            if (Deserialize(e) is { } d) data.Add(d);
        var state = AttemptEvolver.Fold(data);
        if (data.Count == 0 || Terminal(data[^1]) is not { } end)
            return new BoundResult { AttemptId = id, Finished = true, Problem = $"its terminal event {terminal.Version} ({terminal.Type}) could not be read" };
        return ToProto(Finished(Guid.Empty, state, end.Status, end.At, terminal.Version, terminal.Hash));
    }

    private object? Deserialize(StoredEvent e)
    {
        _types ??= store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventTypeName, t => t.EventType);
        // A type this build does not know cannot change the fold (the evolver ignores what it does not know).
        return _types.TryGetValue(e.Type, out var type)
            ? store.Options.Serializer().FromJson(type, new MemoryStream(Encoding.UTF8.GetBytes(e.DataJson)))
            : null;
    }

    public static BoundResult ToProto(AttemptFinished m)
    {
        var r = new BoundResult
        {
            AttemptId = m.AttemptId.ToString(), Finished = true, CampaignId = m.CampaignId.ToString(), TaskId = m.TaskId,
            Variant = m.Variant, Agent = m.Agent, Status = m.Status, Valid = m.FinalScoreValid, TimeBudgetSeconds = m.TimeBudgetSeconds,
            WorkingSeconds = m.WorkingSeconds, CostUsd = m.CostUsd, ModelCalls = m.ModelCalls, FinalVersion = m.FinalVersion,
            ChainHash = m.ChainHash ?? "", AuditWork = m.AuditWork,
        };
        if (m.RawScore is { } raw) r.RawScore = raw;
        if (m.NormalizedScore is { } n) r.NormalizedScore = n;
        foreach (var p in m.ScoreTimeline)
        {
            var point = new BoundScorePoint { ElapsedMs = p.ElapsedMs, Valid = p.Valid };
            if (p.RawScore is { } pr) point.RawScore = pr;
            if (p.NormalizedScore is { } pn) point.NormalizedScore = pn;
            r.Timeline.Add(point);
        }
        return r;
    }
}
