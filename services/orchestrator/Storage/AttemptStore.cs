using Marten;
using JasperFx;
using JasperFx.Events;
using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Storage;

/// <summary>
/// Loads an attempt by folding its stream and appends decided events with optimistic concurrency, together with
/// the attempt's view, in one transaction. A concurrent writer makes the append retry against the new state.
/// </summary>
public sealed class AttemptStore(IDocumentStore store)
{
    private const int MaxConflictRetries = 50;

    public async Task<AttemptState?> TryLoadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(id, token: ct);
        return events.Count == 0 ? null : AttemptEvolver.Fold(events.Select(e => e.Data));
    }

    public async Task<AttemptState> LoadAsync(Guid id, CancellationToken ct) =>
        await TryLoadAsync(id, ct) ?? throw new DomainRejection(RejectionKind.NotFound, $"attempt {id} does not exist");

    public async Task<AttemptState> AppendAsync(Guid id, Func<AttemptState, object[]> decide, CancellationToken ct)
    {
        for (var tries = 1; ; tries++)
        {
            var state = await LoadAsync(id, ct);
            var events = decide(state);
            if (events.Length == 0) return state;
            var next = AttemptEvolver.Fold(events, state);
            await using var session = store.LightweightSession();
            // Marten's expected version is the stream's version after these events.
            session.Events.Append(id, next.Version, events);
            session.Store(AttemptView.From(next));
            try
            {
                await session.SaveChangesAsync(ct);
                return next;
            }
            catch (Exception e) when (tries < MaxConflictRetries && IsConcurrencyConflict(e))
            {
                // Someone appended first: decide again on the fresh state, after a short jitter so racers spread out.
                await Task.Delay(Random.Shared.Next(1, 20), ct);
            }
        }
    }

    private static bool IsConcurrencyConflict(Exception e) =>
        e is EventStreamUnexpectedMaxEventIdException or ConcurrencyException
        || e.InnerException is EventStreamUnexpectedMaxEventIdException or ConcurrencyException;
}
