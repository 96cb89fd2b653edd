using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Streams;

/// <summary>
/// The one way the orchestrator appends to a stream (attempts, campaigns, the chained side streams): each try opens
/// a session, reads what it needs, decides and writes, and commits with optimistic concurrency (Marten checks the
/// expected version, or that a started stream is new). A writer that lost a race tries again on the state the winner
/// left, under one retry policy for every stream.
/// </summary>
public sealed class StreamStore(IDocumentStore store)
{
    /// <summary>
    /// Tries before a conflict is given up on. Racers are few (an agent's steps, the supervisor, a human, the bus),
    /// but a hot attempt sees bursts; 50 short jittered tries have held under the suite's concurrency tests.
    /// </summary>
    public const int MaxTries = 50;

    /// <summary>
    /// Runs <paramref name="attempt"/> in a fresh session and commits what it wrote; when it returns Write false
    /// nothing is committed and its result stands. The try number (1-based) lets a caller start from a cached state
    /// on the first try only.
    /// </summary>
    public Task<T> AppendAsync<T>(Func<IDocumentSession, int, CancellationToken, Task<(bool Write, T Result)>> attempt, CancellationToken ct) =>
        // A transient failure (a connection a PostgreSQL restart killed) runs the whole read-decide-write again: the
        // append carries its expected version, so a commit that did land before the failure makes the rerun conflict
        // and decide again on the state it left (the deciders are idempotent), never append twice.
        TransientFaults.RetryAsync(token => AppendOnceAsync(attempt, token), ClearPool, ct);

    /// <summary>Drops the store's idle connections: after a server restart every one of them is dead.</summary>
    public void ClearPool() => (store.Storage.Database as Weasel.Postgresql.PostgresqlDatabase)?.DataSource.Clear();

    private async Task<T> AppendOnceAsync<T>(Func<IDocumentSession, int, CancellationToken, Task<(bool Write, T Result)>> attempt, CancellationToken ct)
    {
        for (var tries = 1; ; tries++)
        {
            await using var session = store.LightweightSession();
            var (write, result) = await attempt(session, tries, ct);
            if (!write) return result;
            try
            {
                await session.SaveChangesAsync(ct);
                return result;
            }
            catch (Exception e) when (tries < MaxTries && IsConflict(e))
            {
                // Someone appended first: decide again on the fresh state, after a short jitter so racers spread out.
                await Task.Delay(Random.Shared.Next(1, 20), ct);
            }
        }
    }

    /// <summary>Another writer appended at the expected version, or started the same stream, first.</summary>
    public static bool IsConflict(Exception e) => IsConflictType(e) || e.InnerException is { } inner && IsConflictType(inner);

    private static bool IsConflictType(Exception e) =>
        e is EventStreamUnexpectedMaxEventIdException or ConcurrencyException
            or JasperFx.Events.ExistingStreamIdCollisionException or Marten.Exceptions.ExistingStreamIdCollisionException;
}
