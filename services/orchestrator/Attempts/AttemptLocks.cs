using System.Collections.Concurrent;

namespace ReBench.Orchestrator.Attempts;

/// <summary>
/// Serializes every state change of one attempt inside this orchestrator process (steps, deadline, cancel), and
/// lets Cancel abort an effect in flight. One orchestrator instance per database is assumed; running several
/// would need a database lock here instead.
/// </summary>
public sealed class AttemptLocks
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _aborts = new();

    public async Task<IDisposable> AcquireAsync(Guid attemptId, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(attemptId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Release(gate);
    }

    public async Task<IDisposable?> TryAcquireAsync(Guid attemptId)
    {
        var gate = _locks.GetOrAdd(attemptId, _ => new SemaphoreSlim(1, 1));
        return await gate.WaitAsync(0) ? new Release(gate) : null;
    }

    /// <summary>A token cancelled when the attempt is cancelled; effects of its steps run under it.</summary>
    public CancellationToken AbortToken(Guid attemptId) => _aborts.GetOrAdd(attemptId, _ => new CancellationTokenSource()).Token;

    public void Abort(Guid attemptId) => _aborts.GetOrAdd(attemptId, _ => new CancellationTokenSource()).Cancel();

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Release();
        }
    }
}
