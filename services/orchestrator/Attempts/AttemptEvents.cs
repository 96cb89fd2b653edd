namespace ReBench.Orchestrator.Attempts;

// Stored event types. Marten keys each on its snake_case class name (e.g. action_completed): these names are
// schema. Never rename one without a MapEventType alias; add fields instead of changing their meaning.
// Scores are nullable doubles: null stands for NaN, which JSON cannot carry.

public sealed record AttemptScheduled(
    Guid AttemptId, Guid CampaignId, string TaskId, string Variant, string Agent,
    Dictionary<string, string> AgentSettings, int Index, TimeSpan TimeBudget, string Actor, DateTimeOffset At)
{
    /// <summary>The ended attempt this one re-executes (ReexecuteAttempt, agent replay); null for every other attempt.</summary>
    public Guid? ReexecutionOf { get; init; }
    /// <summary>Its campaign is audit work (CampaignCreated.AuditWork), recorded in the attempt's own sealed stream too.</summary>
    public bool AuditWork { get; init; }
}

public sealed record AttemptStarted(
    Guid AttemptId, string EnvironmentId, string SandboxDriver, string Node,
    string TaskVersion, string BundleDigest, string ScorerDigest,
    double StartScore, double ReferenceScore, string Aggregation, bool ScoreVisible,
    DateTimeOffset Deadline, string PlatformVersion, string Actor, DateTimeOffset At)
{
    // Provenance added later (AttemptProvenance); events stored before have the defaults.
    public string? Variant { get; init; }
    public string? Agent { get; init; }
    public string? AgentVersion { get; init; }
    public string? Model { get; init; }
    /// <summary>The agent's settings without secrets; a script by its SHA-256.</summary>
    public Dictionary<string, string>? GenerationSettings { get; init; }
    public string? GpuModel { get; init; }
    public int GpuCount { get; init; }
    public string? GpuDriverVersion { get; init; }
    public double TimeBudgetSeconds { get; init; }
    public long? TokenBudget { get; init; }
    public double? CostBudgetUsd { get; init; }
    /// <summary>The names (never the values) of the operator's task variables the agent's environment got; null: none.</summary>
    public List<string>? AgentEnvironmentVariables { get; init; }
}

public sealed record AgentLaunched(Guid AttemptId, string Agent, DateTimeOffset At);

public sealed record ActionRequested(
    Guid AttemptId, string StepId, string Kind, string? Command, string? Path,
    string? ContentSha256, long ContentSize, string? ContentPreview, int TimeoutSeconds, string Actor, DateTimeOffset At)
{
    /// <summary>The full content is in the blob store under ContentSha256 (docs/audit.md, "Blobs"); false for older events.</summary>
    public bool ContentBlobStored { get; init; }
}

public sealed record ActionCompleted(
    Guid AttemptId, string StepId, int ExitCode, string Stdout, string Stderr, bool TimedOut,
    long OutputElidedBytes, long DurationMs, string? Error, DateTimeOffset At)
{
    /// <summary>The kernel's OOM killer ended a process of the command (exit 137 alone does not say why); absent in older events: false.</summary>
    public bool OomKilled { get; init; }
}

public sealed record ScoreRequested(Guid AttemptId, string StepId, string Reason, string Actor, DateTimeOffset At);

public sealed record IntermediateScoreRecorded(
    Guid AttemptId, string StepId, bool Valid, double? RawScore, double? NormalizedScore,
    string MessageJson, string DetailsJson, string? InvalidReason, bool ScoreVisible, long ElapsedMs, DateTimeOffset At)
{
    /// <summary>The scoring service's tamper checks found evidence (scorer or protected files changed, a forged score-log row).</summary>
    public bool FlaggedForReview { get; init; }
    /// <summary>The evidence, a JSON array of findings; null when not flagged.</summary>
    public string? TamperEvidenceJson { get; init; }
}

public sealed record ModelCallCompleted(
    Guid AttemptId, string StepId, string Provider, string Model, long InputTokens, long OutputTokens,
    long ReasoningTokens, long CachedTokens, double CostUsd, long LatencyMs, string RequestJson, string ResponseJson,
    DateTimeOffset At)
{
    // The full request and response as blobs (docs/audit.md, "Blobs"); when set, RequestJson/ResponseJson may be a
    // bounded preview. Null on events stored before the blob store.
    public string? RequestBlobSha256 { get; init; }
    public long? RequestBlobSize { get; init; }
    public string? ResponseBlobSha256 { get; init; }
    public long? ResponseBlobSize { get; init; }
    /// <summary>The budget_reserved step this call settles (Budgets/BudgetLedger.cs); null when none was made.</summary>
    public string? ReservationStepId { get; init; }
}

public sealed record SubmissionReceived(Guid AttemptId, string StepId, string Submission, string Actor, DateTimeOffset At);

public sealed record BudgetExhausted(Guid AttemptId, DateTimeOffset Deadline, DateTimeOffset At)
{
    /// <summary>Which budget ran out: null = time (the deadline); cost, tokens or campaign_cost_cap (Budgets/BudgetLedger.cs).</summary>
    public string? Budget { get; init; }
    /// <summary>For a spending budget: the refused reservation, the limit and what was committed.</summary>
    public string? Detail { get; init; }
}

public sealed record FinalScoreRecorded(
    Guid AttemptId, bool Valid, double? RawScore, double NormalizedScore, string Aggregation, int ValidScoreCount, DateTimeOffset At);

public sealed record AttemptCompleted(Guid AttemptId, string Reason, DateTimeOffset At);

public sealed record AttemptFailed(Guid AttemptId, string Reason, DateTimeOffset At);

public sealed record AttemptCancelled(Guid AttemptId, string Reason, string Actor, DateTimeOffset At);

/// <summary>The attempt's clock stops: time until the matching resume does not count against the budget.</summary>
public sealed record AttemptPaused(Guid AttemptId, string StepId, string Reason, string Actor, DateTimeOffset At);

/// <summary>The clock runs again; the deadline moves later by the paused time.</summary>
public sealed record AttemptResumed(Guid AttemptId, string StepId, TimeSpan PausedFor, DateTimeOffset NewDeadline, string Actor, DateTimeOffset At);

/// <summary>The attempt could not be placed yet (e.g. no free GPUs); it stays scheduled and waits in the queue.</summary>
public sealed record AttemptQueued(Guid AttemptId, string Reason, DateTimeOffset At);
