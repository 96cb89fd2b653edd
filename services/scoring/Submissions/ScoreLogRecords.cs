using Marten;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Submissions;

/// <summary>
/// What the service knows about one environment's score log: the rows it wrote, in order, and whether it could keep
/// a file log at all. Stored so that a restart of the scoring service still knows which rows are its own; without
/// it, the first check after a restart would have to adopt the file as found, and a row forged meanwhile would pass.
/// </summary>
public sealed class ScoreLogRecord
{
    /// <summary>The environment id (the document's identity).</summary>
    public string Id { get; set; } = "";
    /// <summary>null until the service knows what the log should hold.</summary>
    public List<string>? Rows { get; set; }
    public bool LogWritable { get; set; } = true;
    public bool Prepared { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Where <see cref="ScoreLogLedger"/> keeps its records between restarts.</summary>
public interface IScoreLogRecordStore
{
    /// <summary>True when records outlive the process (so "adopted after a restart" cannot happen for known logs).</summary>
    bool Durable { get; }
    Task<ScoreLogRecord?> LoadAsync(string environmentId, CancellationToken ct);
    Task SaveAsync(ScoreLogRecord record, CancellationToken ct);
}

/// <summary>No storage: the ledger's memory is all there is (a scoring service without a PostgreSQL connection).</summary>
public sealed class InMemoryScoreLogRecords : IScoreLogRecordStore
{
    public bool Durable => false;
    public Task<ScoreLogRecord?> LoadAsync(string environmentId, CancellationToken ct) => Task.FromResult<ScoreLogRecord?>(null);
    public Task SaveAsync(ScoreLogRecord record, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>One Marten document per environment, in the scoring service's schema (Scoring:Schema).</summary>
public sealed class MartenScoreLogRecords(IDocumentStore store) : IScoreLogRecordStore
{
    public bool Durable => true;

    // Both calls are idempotent (a read; an upsert of the whole record), so a transient failure (a connection a
    // PostgreSQL restart killed) is tried again, on a cleared pool when the server restarted.
    public Task<ScoreLogRecord?> LoadAsync(string environmentId, CancellationToken ct) =>
        TransientFaults.RetryAsync(async token =>
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<ScoreLogRecord>(environmentId, token);
        }, ClearPool, ct);

    public Task SaveAsync(ScoreLogRecord record, CancellationToken ct) =>
        TransientFaults.RetryAsync(async token =>
        {
            await using var session = store.LightweightSession();
            session.Store(record);
            await session.SaveChangesAsync(token);
            return true;
        }, ClearPool, ct);

    private void ClearPool() => (store.Storage.Database as Weasel.Postgresql.PostgresqlDatabase)?.DataSource.Clear();
}

public static class ScoreLogRecordsSetup
{
    /// <summary>Marten documents where the service has ConnectionStrings:Postgres (Reports registers Marten), else memory.</summary>
    public static IServiceCollection AddScoreLogRecords(this IServiceCollection services, IConfiguration config)
    {
        if (string.IsNullOrWhiteSpace(config.GetConnectionString("Postgres")))
        {
            services.AddSingleton<IScoreLogRecordStore, InMemoryScoreLogRecords>();
            return services;
        }
        services.ConfigureMarten(o => o.Schema.For<ScoreLogRecord>());
        services.AddSingleton<IScoreLogRecordStore, MartenScoreLogRecords>();
        return services;
    }
}
