using System.Text;
using ReBench.Scoring.Submissions;

namespace ReBench.Scoring.Protected.Tests;

public sealed class ScoreLogLedgerTests
{
    private static readonly string Row1 = ScoreLogFormat.Row(DateTimeOffset.Parse("2026-01-02T03:04:05Z"), 1.5, "{\"a\":1}", "{}");
    private static readonly string Row2 = ScoreLogFormat.Row(DateTimeOffset.Parse("2026-01-02T03:05:05Z"), double.NaN, "{}", "{\"b\":\"x,\\\"y\"}");

    private static byte[] File(params string[] rows) => Encoding.UTF8.GetBytes(string.Join("\n", [ScoreLogFormat.Header, .. rows]) + "\n");

    [Fact]
    public void Rows_are_TPS_csv_with_quoted_json_and_nan()
    {
        Assert.Equal("2026-01-02T03:04:05Z,1.5,\"{\"\"a\"\":1}\",\"{}\"", Row1);
        Assert.StartsWith("2026-01-02T03:05:05Z,nan,", Row2);
    }

    [Fact]
    public void The_service_rows_in_order_are_clean_and_a_foreign_row_anywhere_is_named()
    {
        var entry = new ScoreLogLedger.Entry { Rows = [Row1, Row2] };
        Assert.Empty(ScoreLogLedger.Check(entry, File(Row1, Row2), "before", out _));

        var findings = ScoreLogLedger.Check(entry, File(Row1, "2030-01-01T00:00:00Z,9,\"{}\",\"{}\"", Row2), "before", out _);
        var f = Assert.Single(findings);
        Assert.Equal((TamperKinds.LogForeignLine, "score.log:3"), (f.Kind, f.Path));
        Assert.False(f.TaintsRun);
    }

    [Fact]
    public void A_changed_or_removed_row_and_a_deleted_log_are_evidence()
    {
        var changed = ScoreLogLedger.Check(new ScoreLogLedger.Entry { Rows = [Row1, Row2] }, File(Row1, Row2.Replace("nan", "9")), "after", out _);
        Assert.Contains(changed, f => f.Kind == TamperKinds.LogLineRemoved && f.Expected == Row2);
        Assert.Contains(changed, f => f.Kind == TamperKinds.LogForeignLine);

        var deleted = ScoreLogLedger.Check(new ScoreLogLedger.Entry { Rows = [Row1] }, null, "before", out _);
        Assert.Equal(TamperKinds.LogMissing, Assert.Single(deleted).Kind);
    }

    [Fact]
    public void Without_a_record_the_file_is_adopted_once()
    {
        var entry = new ScoreLogLedger.Entry();
        Assert.Empty(ScoreLogLedger.Check(entry, File(Row1), "before", out var adopted));
        Assert.True(adopted);
        Assert.Equal([Row1], entry.Rows);
    }

    private sealed class BrokenStore(bool loadFails) : IScoreLogRecordStore
    {
        public bool Durable => true;
        public Task<ScoreLogRecord?> LoadAsync(string environmentId, CancellationToken ct) =>
            loadFails ? throw new InvalidOperationException("database down") : Task.FromResult<ScoreLogRecord?>(null);
        public Task SaveAsync(ScoreLogRecord record, CancellationToken ct) => throw new InvalidOperationException("database down");
    }

    [Fact]
    public async Task A_record_that_cannot_be_read_fails_the_call_instead_of_adopting_the_file()
    {
        var ledger = new ScoreLogLedger(new BrokenStore(loadFails: true),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ScoreLogLedger>.Instance, TimeProvider.System);
        var e = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => ledger.LoadAsync("env-1", CancellationToken.None));
        Assert.Equal(global::Grpc.Core.StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("env-1", e.Status.Detail);
        Assert.Contains("database down", e.Status.Detail);
    }

    [Fact]
    public async Task A_record_that_cannot_be_stored_fails_the_call_and_keeps_the_memory_copy()
    {
        var ledger = new ScoreLogLedger(new BrokenStore(loadFails: false),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ScoreLogLedger>.Instance, TimeProvider.System);
        var entry = await ledger.LoadAsync("env-2", CancellationToken.None);
        entry.Rows = [Row1];
        // Not logged and ignored: the score whose row could not be recorded is not given.
        var e = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => ledger.SaveAsync("env-2", entry, CancellationToken.None));
        Assert.Equal(global::Grpc.Core.StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("env-2", e.Status.Detail);
        Assert.Contains("not given", e.Status.Detail);
        Assert.Same(entry, await ledger.LoadAsync("env-2", CancellationToken.None));
        Assert.Equal([Row1], entry.Rows);
    }
}
