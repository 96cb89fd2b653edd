using ReBench.Audit;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Streams;
using ReBench.Orchestrator.Storage;
using ReBench.Sandbox.V1;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// At start and every <c>Orchestrator:ReconcileIntervalSeconds</c>, compares the sandbox's environments with the
/// attempts that are live and destroys the rest: an attempt that ended while the sandbox was unreachable, an
/// orchestrator killed between <c>attempt_completed</c> and the destroy, an environment nobody created through an
/// attempt. Each one destroyed is recorded as <c>environment_reclaimed</c> in a hash-chained stream of its own
/// (<see cref="StreamId"/>), so what the platform cleaned up, and why, is on the record. Environment ids are attempt
/// ids (AttemptLifecycle creates them so), which is how an environment is matched to its owner; a sandbox node
/// therefore serves one platform (one database).
/// </summary>
public sealed class EnvironmentReconciler(
    IDocumentStore store,
    StreamStore streams,
    AuditChain chain,
    Sandbox.V1.Sandbox.SandboxClient sandbox,
    EnvironmentTeardown teardown,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<EnvironmentReconciler> logger) : PeriodicRounds(options, time, logger)
{
    public static readonly Guid StreamId = DerivedStreamIds.Of("rebench.environment-reclamations.v1", Guid.Empty);

    /// <summary>How old an environment no attempt knows must be before it is destroyed (one being created right now is spared).</summary>
    private TimeSpan Grace => TimeSpan.FromSeconds(Options.ReclaimGraceSeconds);

    protected override string RoundName => "Environment reconciliation";

    protected override Task RoundAsync(CancellationToken ct) => ReconcileAsync(ct);

    /// <summary>One round; returns the ids of the environments it destroyed.</summary>
    public async Task<IReadOnlyList<string>> ReconcileAsync(CancellationToken ct)
    {
        using var call = new CancellationTokenSource(TimeSpan.FromSeconds(30), Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, call.Token);
        var listing = await sandbox.ListEnvironmentsAsync(new ListEnvironmentsRequest(), cancellationToken: linked.Token);
        if (listing.Environments.Count == 0) return [];
        var owners = await OwnersAsync(listing.Environments.Select(e => e.EnvironmentId), ct);
        var now = Time.GetUtcNow();
        var reclaimed = new List<string>();
        foreach (var environment in listing.Environments)
        {
            var owner = owners.GetValueOrDefault(environment.EnvironmentId);
            var verdict = Decide(owner, DateTimeOffset.FromUnixTimeMilliseconds(environment.CreatedUnixMs), now, Grace);
            if (verdict is null) continue;
            // Destroy first, record after: a record of a destroy that did not happen would mislead. Only what this round
            // found and destroyed is recorded (the attempt's own end may have destroyed it a moment before).
            if (await teardown.DestroyAsync(environment.EnvironmentId) != DestroyOutcome.Destroyed) continue;
            reclaimed.Add(environment.EnvironmentId);
            Logger.LogWarning("Reclaimed environment {Env}: {Reason}", environment.EnvironmentId, verdict);
            await ChainedSideStream.AppendAsync<EnvironmentReclamations>(streams, chain, StreamId,
                new EnvironmentReclaimed(environment.EnvironmentId, owner?.Id, owner?.Phase.ToString().ToLowerInvariant(), verdict, Time.GetUtcNow()), ct);
        }
        return reclaimed;
    }

    /// <summary>Why the environment must go, or null while a live attempt owns it (or it is too new to judge).</summary>
    public static string? Decide(AttemptView? owner, DateTimeOffset createdAt, DateTimeOffset now, TimeSpan grace) => owner switch
    {
        null when now - createdAt < grace => null,
        null => "no attempt owns it",
        { Phase: AttemptPhase.Completed or AttemptPhase.Failed or AttemptPhase.Cancelled } => $"its attempt has ended ({owner.Phase.ToString().ToLowerInvariant()})",
        _ => null,
    };

    private async Task<Dictionary<string, AttemptView>> OwnersAsync(IEnumerable<string> environmentIds, CancellationToken ct)
    {
        var ids = environmentIds.Select(e => Guid.TryParseExact(e, "N", out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).Distinct().ToList();
        if (ids.Count == 0) return [];
        await using var session = store.QuerySession();
        var views = await session.LoadManyAsync<AttemptView>(ct, ids);
        return views.ToDictionary(v => v.Id.ToString("N"));
    }
}

/// <summary>An environment the reconciler destroyed: which, whose (null: no attempt), in what phase its attempt was, and why.</summary>
public sealed record EnvironmentReclaimed(string EnvironmentId, Guid? AttemptId, string? AttemptPhase, string Reason, DateTimeOffset At);

/// <summary>Marker aggregate type of the reclamations stream (mt_streams.type).</summary>
public sealed class EnvironmentReclamations;
