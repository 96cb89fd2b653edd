using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Grpc.Core;
using ReBench.Scoring.Scorers;

namespace ReBench.Scoring.Submissions;

/// <summary>
/// The file copy of the official score log, <c>$REBENCH_PROTECTED/score.log</c>, in the TPS format: a CSV with the
/// header <c>timestamp,score,message,details</c>, one row per scoring run (rebench-spec 3.1). The platform's events
/// stay the authoritative log; this file lets in-environment tooling read the history, and the service checks that
/// it holds exactly the rows the service wrote, so a row anyone else added or changed is evidence.
/// </summary>
public static class ScoreLogFormat
{
    public const string Header = "timestamp,score,message,details";

    /// <summary>One row: ISO-8601 UTC to the second, the raw score ("nan" when invalid, as Python's csv writes it), JSON.</summary>
    public static string Row(DateTimeOffset at, double raw, string messageJson, string detailsJson) =>
        string.Join(',',
            at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            double.IsFinite(raw) ? raw.ToString("R", CultureInfo.InvariantCulture) : "nan",
            Quote(OneLine(messageJson)),
            Quote(OneLine(detailsJson)));

    /// <summary>The log's rows after the header, split on newlines (rows the service writes never contain one).</summary>
    public static (string? Header, IReadOnlyList<string> Rows) Split(byte[] content)
    {
        var text = Encoding.UTF8.GetString(content);
        var lines = text.Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) return (null, []);
        return (lines[0], lines.Skip(1).ToList());
    }

    private static string Quote(string field) => "\"" + field.Replace("\"", "\"\"") + "\"";

    // Compact JSON has no raw newline; a scorer's pretty-printed one would break the one-row-per-line rule.
    private static string OneLine(string json) => json.Replace("\r", "").Replace("\n", " ");
}

/// <summary>
/// The rows the service wrote to each environment's score log, and a lock per environment so that one scoring run
/// at a time reads, runs and appends. Held in memory and, where the service has PostgreSQL, stored after every change
/// (<see cref="IScoreLogRecordStore"/>), so a restarted service still knows its rows. Only a log the service never
/// recorded (no database, or an environment prepared before the record existed) is adopted as found, and the run's
/// details say so.
/// </summary>
public sealed class ScoreLogLedger(IScoreLogRecordStore store, ILogger<ScoreLogLedger> logger, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        /// <summary>null until the service knows what the log should hold.</summary>
        public List<string>? Rows { get; set; }
        /// <summary>False once the protected area turned out read-only to the scorer: no file log is kept then.</summary>
        public bool LogWritable { get; set; } = true;
        public bool Prepared { get; set; }
        /// <summary>The stored record was read into this entry (once per process).</summary>
        public bool Loaded { get; set; }
    }

    public Entry For(string environmentId) => _entries.GetOrAdd(environmentId, _ => new Entry());

    /// <summary>The entry with the stored record read in; call with the entry's gate held.</summary>
    public async Task<Entry> LoadAsync(string environmentId, CancellationToken ct)
    {
        var entry = For(environmentId);
        if (entry.Loaded) return entry;
        ScoreLogRecord? record;
        try
        {
            record = await store.LoadAsync(environmentId, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store that cannot be read must not let the service adopt a forged log as its own: the call fails instead.
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"the score-log record of environment '{environmentId}' could not be read: {e.Message}"));
        }
        if (record is not null)
        {
            entry.Rows = record.Rows;
            entry.LogWritable = record.LogWritable;
            entry.Prepared = record.Prepared;
        }
        entry.Loaded = true;
        return entry;
    }

    /// <summary>Stores the entry; call with its gate held, after each change.</summary>
    public async Task SaveAsync(string environmentId, Entry entry, CancellationToken ct)
    {
        try
        {
            await store.SaveAsync(new ScoreLogRecord
            {
                Id = environmentId, Rows = entry.Rows?.ToList(), LogWritable = entry.LogWritable, Prepared = entry.Prepared,
                UpdatedAt = time.GetUtcNow(),
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store retried transient failures already (MartenScoreLogRecords). Going on would leave the record
            // without a row the service wrote, and a later check (after a restart) would call the service's own row
            // foreign: the call fails loudly instead, and the caller sees the score was not given.
            logger.LogError(e, "Storing the score-log record of environment {Environment} failed", environmentId);
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"the score-log record of environment '{environmentId}' could not be stored, so this score is not given: {e.Message}"));
        }
    }

    /// <summary>Differences between the file and the rows the service wrote; adopts the file when nothing is known.</summary>
    public static IReadOnlyList<TamperFinding> Check(Entry entry, byte[]? file, string phase, out bool adopted)
    {
        adopted = false;
        var findings = new List<TamperFinding>();
        if (entry.Rows is null)
        {
            adopted = true;
            entry.Rows = file is null ? [] : ScoreLogFormat.Split(file).Rows.ToList();
            return findings;
        }
        if (file is null)
        {
            if (entry.Rows.Count > 0)
                findings.Add(new(TamperKinds.LogMissing, EnvironmentSnapshot.LogFile, $"{entry.Rows.Count} row(s)", EnvironmentSnapshot.Missing, phase));
            return findings;
        }
        var (header, rows) = ScoreLogFormat.Split(file);
        if (header is not null && header != ScoreLogFormat.Header)
            findings.Add(new(TamperKinds.LogLineChanged, "score.log:1", ScoreLogFormat.Header, header, phase));
        // Our rows must appear in order; every other row is someone else's, every row of ours not found was removed or changed.
        var expected = entry.Rows;
        var matched = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (matched < expected.Count && rows[i] == expected[matched]) matched++;
            else findings.Add(new(TamperKinds.LogForeignLine, $"score.log:{i + 2}", "", rows[i], phase));
        }
        for (var i = matched; i < expected.Count; i++)
            findings.Add(new(TamperKinds.LogLineRemoved, $"score.log row {i + 1} of the service's", expected[i], "missing or changed", phase));
        // Reported once: later checks compare against the file as it is now.
        if (findings.Count > 0) entry.Rows = rows.ToList();
        return findings;
    }
}
