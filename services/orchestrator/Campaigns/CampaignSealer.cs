using Npgsql;
using ReBench.Audit;
using ReBench.Orchestrator.Campaigns;

using ReBench.Orchestrator.Streams;

namespace ReBench.Orchestrator.Campaigns;

/// <summary>
/// Seals a campaign when it completes (docs/audit.md, "Campaign seals"): reads each attempt's seal as stored and
/// returns the seal maker for the campaign's final append, or null (with a warning) when some attempt is not sealed,
/// e.g. one written before attempts were sealed.
/// </summary>
public sealed class CampaignSealer(IDocumentStore store, AuditChain chain, IConfiguration config, ILogger<CampaignSealer> logger) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(config.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured"));

    public async Task<Func<long, string, object>?> PrepareAsync(CampaignState state, object[] events, CancellationToken ct)
    {
        if (!events.Any(e => e is CampaignCompleted)) return null;
        var schema = store.Options.Events.DatabaseSchemaName;
        var seals = new List<CampaignAttemptSeal>();
        foreach (var attemptId in state.AttemptIds)
        {
            await using var cmd = _db.CreateCommand($"select type, data::text from \"{schema}\".mt_events where stream_id = $1 order by version desc limit 1");
            cmd.Parameters.Add(new NpgsqlParameter { Value = attemptId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct) || reader.GetString(0) != ChainVerifier.SealType)
            {
                logger.LogWarning("campaign {CampaignId} completes unsealed: attempt {AttemptId} has no seal", state.Id, attemptId);
                return null;
            }
            var seal = CampaignSeals.FromAttemptSeal(EventChain.StreamKey(attemptId), reader.GetString(1));
            seals.Add(new CampaignAttemptSeal(attemptId, seal.HeadHash, seal.Signature));
        }
        return (version, head) => chain.SealCampaign(state.Id, version, head, seals);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
