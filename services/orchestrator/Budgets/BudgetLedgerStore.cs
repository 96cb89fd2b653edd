using System.Collections.Concurrent;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;

namespace ReBench.Orchestrator.Budgets;

/// <summary>
/// Folds ledgers from the stored events. Like AttemptStore it caches each attempt's folded ledger and reads only the
/// events after the cached version; a campaign's total reads the views (written with the events) to find which of its
/// attempts changed. The database stays the source of truth, so a restart only costs one full fold.
/// </summary>
public sealed class BudgetLedgerStore(IDocumentStore store)
{
    private readonly ConcurrentDictionary<Guid, LedgerState> _ledgers = new();
    private readonly ConcurrentDictionary<Guid, double?> _caps = new();
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _campaignGates = new();

    public async Task<LedgerState> LoadAsync(Guid attemptId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await LoadAsync(session, attemptId, ct);
    }

    private async Task<LedgerState> LoadAsync(IQuerySession session, Guid attemptId, CancellationToken ct)
    {
        var cached = _ledgers.GetValueOrDefault(attemptId);
        var events = await session.Events.FetchStreamAsync(attemptId, fromVersion: (cached?.Version ?? 0) + 1, token: ct);
        var ledger = BudgetLedger.Fold(events.Select(e => e.Data), cached);
        _ledgers.AddOrUpdate(attemptId, ledger, (_, old) => old.Version >= ledger.Version ? old : ledger);
        return ledger;
    }

    /// <summary>The campaign's cost cap, recorded on campaign_created (never changes, so cached).</summary>
    public async Task<double?> CampaignCapAsync(Guid campaignId, CancellationToken ct)
    {
        if (_caps.TryGetValue(campaignId, out var known)) return known;
        await using var session = store.QuerySession();
        var first = await session.Events.FetchStreamAsync(campaignId, version: 1, token: ct);
        var cap = first.Select(e => e.Data).OfType<CampaignCreated>().FirstOrDefault()?.CostCapUsd;
        _caps[campaignId] = cap;
        return cap;
    }

    /// <summary>Settled cost plus open reservations of every attempt of the campaign.</summary>
    public async Task<double> CampaignCommittedAsync(Guid campaignId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var attempts = await session.Query<AttemptView>().Where(a => a.CampaignId == campaignId)
            .ToListAsync(ct);
        var total = 0d;
        foreach (var a in attempts)
        {
            var ledger = _ledgers.TryGetValue(a.Id, out var cached) && cached.Version >= a.Version ? cached : await LoadAsync(session, a.Id, ct);
            total += ledger.CommittedUsd;
        }
        return total;
    }

    /// <summary>
    /// Serializes reservations against one campaign's cap (attempts of a campaign reserve from different attempt
    /// locks), so two attempts never both take the last of the cap. Taken after the attempt's lock, never before.
    /// </summary>
    public async Task<IDisposable> LockCampaignAsync(Guid campaignId, CancellationToken ct)
    {
        var gate = _campaignGates.GetOrAdd(campaignId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Release();
        }
    }
}
