using JasperFx;
using Marten;
using Marten.Exceptions;
using Npgsql;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Reports;

/// <summary>
/// Which results a report reads; empty collections select everything. Audit work (re-executions) is left out unless
/// <see cref="IncludeAudit"/>: it re-checks an attempt, it is not a researcher's attempt.
/// </summary>
public sealed record ResultQuery(
    IReadOnlyCollection<string> Tasks,
    IReadOnlyCollection<string> Agents,
    IReadOnlyCollection<Guid> CampaignIds,
    double? BudgetSeconds = null,
    bool IncludeAudit = false)
{
    public static readonly ResultQuery All = new([], [], []);

    /// <summary>A task filter entry is "task_id" (every variant) or "task_id:variant".</summary>
    public bool Matches(AttemptResult r) =>
        (Tasks.Count == 0 || Tasks.Any(t => t == r.TaskId || t == r.TaskKey))
        && (Agents.Count == 0 || Agents.Contains(r.Agent))
        && (CampaignIds.Count == 0 || CampaignIds.Contains(r.CampaignId))
        && (BudgetSeconds is null || r.TimeBudgetSeconds == BudgetSeconds)
        && (IncludeAudit || !r.IsAuditWork);
}

/// <summary>The finished attempts reports are computed from.</summary>
public interface IResultsStore
{
    /// <summary>Stores one result; false, and nothing changed, when its id or its attempt is already stored.</summary>
    Task<bool> RecordAsync(AttemptResult result, CancellationToken ct);

    /// <summary>Stores every new result in one transaction (all or none); the ones already stored are left as they are.</summary>
    Task<(int Inserted, int AlreadyPresent)> RecordAllAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct);

    Task<IReadOnlyList<AttemptResult>> QueryAsync(ResultQuery query, CancellationToken ct);

    /// <summary>
    /// The filter values of <paramref name="query"/> that no stored result has at all, each as "agent 'x'", "task 'y'"
    /// or "campaign z" (at most 20 of each kind are checked).
    /// </summary>
    Task<IReadOnlyList<string>> UnmatchedAsync(ResultQuery query, CancellationToken ct);

    /// <summary>Stores one correction; false, and nothing changed, when its id is already stored.</summary>
    Task<bool> RecordCorrectionAsync(ResultCorrection correction, CancellationToken ct);

    /// <summary>The stored corrections of these attempts, in no particular order.</summary>
    Task<IReadOnlyList<ResultCorrection>> CorrectionsForAsync(IReadOnlyCollection<Guid> attemptIds, CancellationToken ct);
}

/// <summary>Results as Marten documents in PostgreSQL (schema Scoring:Schema), one per finished attempt.</summary>
public sealed class MartenResultsStore(IDocumentStore store) : IResultsStore
{
    public async Task<bool> RecordAsync(AttemptResult result, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        if (await session.Query<AttemptResult>().AnyAsync(r => r.Id == result.Id || r.AttemptId == result.AttemptId, ct)) return false;
        session.Insert(result);
        return await TrySaveAsync(session, ct);
    }

    public async Task<(int Inserted, int AlreadyPresent)> RecordAllAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var ids = results.Select(r => r.Id).ToArray();
        var present = (await session.Query<AttemptResult>().Where(r => r.Id.IsOneOf(ids)).Select(r => r.Id).ToListAsync(ct)).ToHashSet();
        var fresh = results.Where(r => !present.Contains(r.Id)).ToList();
        if (fresh.Count == 0) return (0, results.Count);
        session.Insert(fresh.ToArray());
        // One SaveChanges is one transaction: a concurrent import of the same rows rolls this one back whole.
        if (!await TrySaveAsync(session, ct))
            throw Guard.FailedPrecondition("another import of the same rows finished first; nothing was written, retry to see its result");
        return (fresh.Count, present.Count);
    }

    public async Task<IReadOnlyList<AttemptResult>> QueryAsync(ResultQuery query, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        IQueryable<AttemptResult> q = session.Query<AttemptResult>();
        if (query.Agents.Count > 0)
        {
            var agents = query.Agents.ToArray();
            q = q.Where(r => r.Agent.IsOneOf(agents));
        }
        if (query.CampaignIds.Count > 0)
        {
            var campaigns = query.CampaignIds.ToArray();
            q = q.Where(r => r.CampaignId.IsOneOf(campaigns));
        }
        var rows = await q.ToListAsync(ct);
        return rows.Where(query.Matches).ToList();
    }

    public async Task<IReadOnlyList<string>> UnmatchedAsync(ResultQuery query, CancellationToken ct)
    {
        const int MaxChecked = 20;
        var unmatched = new List<string>();
        if (query.Agents.Count + query.Tasks.Count + query.CampaignIds.Count == 0) return unmatched;
        await using var session = store.QuerySession();
        var results = session.Query<AttemptResult>();
        foreach (var agent in query.Agents.Distinct().Take(MaxChecked))
            if (!await results.AnyAsync(r => r.Agent == agent, ct)) unmatched.Add($"agent '{Guard.Quote(agent)}'");
        foreach (var task in query.Tasks.Distinct().Take(MaxChecked))
        {
            var parts = task.Split(':', 2);
            var (id, variant) = (parts[0], parts.Length == 2 ? parts[1] : null);
            var found = variant is null
                ? await results.AnyAsync(r => r.TaskId == id, ct)
                : await results.AnyAsync(r => r.TaskId == id && r.Variant == variant, ct);
            if (!found) unmatched.Add($"task '{Guard.Quote(task)}'");
        }
        foreach (var campaign in query.CampaignIds.Distinct().Take(MaxChecked))
            if (!await results.AnyAsync(r => r.CampaignId == campaign, ct)) unmatched.Add($"campaign {campaign}");
        return unmatched;
    }

    public async Task<bool> RecordCorrectionAsync(ResultCorrection correction, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<ResultCorrection>(correction.Id, ct) is not null) return false;
        session.Insert(correction);
        return await TrySaveAsync(session, ct);
    }

    public async Task<IReadOnlyList<ResultCorrection>> CorrectionsForAsync(IReadOnlyCollection<Guid> attemptIds, CancellationToken ct)
    {
        if (attemptIds.Count == 0) return [];
        await using var session = store.QuerySession();
        var ids = attemptIds.ToArray();
        return await session.Query<ResultCorrection>().Where(c => c.AttemptId.IsOneOf(ids)).ToListAsync(ct);
    }

    // A concurrent writer that inserted the same id (or attempt, via the unique index) first wins; ours is a duplicate.
    private static async Task<bool> TrySaveAsync(IDocumentSession session, CancellationToken ct)
    {
        try
        {
            await session.SaveChangesAsync(ct);
            return true;
        }
        catch (DocumentAlreadyExistsException)
        {
            return false;
        }
        catch (MartenCommandException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return false;
        }
    }
}

/// <summary>Stands in when ConnectionStrings:Postgres is not set: the service runs, reports answer FAILED_PRECONDITION.</summary>
public sealed class UnconfiguredResultsStore : IResultsStore
{
    public const string Message = "no results store configured (the scoring service has no ConnectionStrings:Postgres)";

    public Task<bool> RecordAsync(AttemptResult result, CancellationToken ct) => throw Guard.FailedPrecondition(Message);
    public Task<(int Inserted, int AlreadyPresent)> RecordAllAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct) =>
        throw Guard.FailedPrecondition(Message);
    public Task<IReadOnlyList<AttemptResult>> QueryAsync(ResultQuery query, CancellationToken ct) => throw Guard.FailedPrecondition(Message);
    public Task<IReadOnlyList<string>> UnmatchedAsync(ResultQuery query, CancellationToken ct) => throw Guard.FailedPrecondition(Message);
    public Task<bool> RecordCorrectionAsync(ResultCorrection correction, CancellationToken ct) => throw Guard.FailedPrecondition(Message);
    public Task<IReadOnlyList<ResultCorrection>> CorrectionsForAsync(IReadOnlyCollection<Guid> attemptIds, CancellationToken ct) =>
        throw Guard.FailedPrecondition(Message);
}
