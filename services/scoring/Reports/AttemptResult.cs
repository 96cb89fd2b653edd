using System.Text.Json.Serialization;

namespace ReBench.Scoring.Reports;

/// <summary>
/// One finished attempt in the results store (a Marten document): an agent's, from the orchestrator's
/// AttemptFinished event, or a human expert's, imported from CSV. Id is the source event's id (imports derive one
/// from the CSV content), which is what makes recording idempotent.
/// </summary>
public sealed class AttemptResult
{
    public const string HumanAgent = "human";
    public const string Completed = "completed";

    public Guid Id { get; set; }
    public Guid AttemptId { get; set; }
    public Guid CampaignId { get; set; }
    public string TaskId { get; set; } = "";
    public string Variant { get; set; } = "";
    public string Agent { get; set; } = "";
    /// <summary>completed, failed or cancelled.</summary>
    public string Status { get; set; } = "";
    public double? RawScore { get; set; }
    public double? NormalizedScore { get; set; }
    public bool Valid { get; set; }
    public double TimeBudgetSeconds { get; set; }
    public double WorkingSeconds { get; set; }
    public double CostUsd { get; set; }
    /// <summary>What <see cref="CostUsd"/> is made of: see <see cref="CostBasis"/>.</summary>
    public string CostBasis { get; set; } = Reports.CostBasis.ModelCalls;
    public long ModelCalls { get; set; }
    public List<ResultPoint> Timeline { get; set; } = [];
    public DateTimeOffset FinishedAt { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
    /// <summary>"orchestrator", or "human-import:&lt;source&gt;".</summary>
    public string Source { get; set; } = "";
    /// <summary>A human row's identity as given: its row_id, or person@started_at; "" when only its content identifies it.</summary>
    public string RowKey { get; set; } = "";
    /// <summary>A human row's person column, "" if not given.</summary>
    public string Person { get; set; } = "";

    /// <summary>
    /// The attempt's terminal event: its number and chain link in the orchestrator's sealed stream (which the seal
    /// signs), binding this row to the sealed record. Null in rows stored before results carried them ("unbound") and
    /// in human rows, which the orchestrator never sealed.
    /// </summary>
    public long? FinalVersion { get; set; }
    public string? ChainHash { get; set; }
    /// <summary>A re-execution (audit work): reports leave it out unless asked (ReportFilter.include_audit).</summary>
    public bool AuditWork { get; set; }

    /// <summary>The agent every re-execution runs (the orchestrator's ReexecutionRules.ReplayAgent).</summary>
    public const string ReplayAgent = "replay";

    /// <summary>
    /// What reports treat as audit work: the stored mark, or, for an unbound row stored before the mark existed, a
    /// re-execution's agent (such rows cannot be rewritten: documents are kept as written).
    /// </summary>
    [JsonIgnore]
    public bool IsAuditWork => AuditWork || (FromOrchestrator && !Bound && Agent == ReplayAgent);

    /// <summary>The row names its place in the sealed record.</summary>
    [JsonIgnore]
    public bool Bound => FinalVersion is > 0 && !string.IsNullOrEmpty(ChainHash);

    /// <summary>Written from the orchestrator's AttemptFinished, so its sealed stream can check it (human rows cannot be).</summary>
    [JsonIgnore]
    public bool FromOrchestrator => Source == OrchestratorSource;

    public const string OrchestratorSource = "orchestrator";

    /// <summary>A shallow copy, for the views reports derive (a budget cut, a correction); the stored row is never changed.</summary>
    public AttemptResult Copy() => (AttemptResult)MemberwiseClone();

    /// <summary>"task_id:variant": the unit score@k averages over.</summary>
    [JsonIgnore]
    public string TaskKey => $"{TaskId}:{Variant}";

    /// <summary>
    /// The score reports use: a completed attempt without a valid score counts as normalized 0 (rebench-spec 6.3),
    /// as does a non-finite stored value.
    /// </summary>
    [JsonIgnore]
    public double ReportScore => Valid && NormalizedScore is { } n && double.IsFinite(n) ? Math.Max(0, n) : 0;
}

/// <summary>One intermediate score of an attempt; null scores and Valid = false are invalid submissions (NaN).</summary>
public sealed record ResultPoint(long ElapsedMs, bool Valid, double? RawScore, double? NormalizedScore);

public static class CostBasis
{
    public const string ModelCalls = "model_calls";
    public const string HourlyRate = "hourly_rate";
    /// <summary>A human row imported without a rate: the cost is unknown, not zero.</summary>
    public const string Unknown = "unknown";
}
