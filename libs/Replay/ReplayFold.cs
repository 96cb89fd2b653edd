namespace ReBench.Replay;

/// <summary>
/// Pure fold of stored attempt events (by stored type name) into <see cref="ReplayState"/>. It knows the stored
/// schema, not the orchestrator's types, so it also works on an export bundle with no platform running. Unknown
/// types (added later) are skipped; fields are read by name, so events of older shapes fold too.
/// </summary>
public static class ReplayFold
{
    public static ReplayState Fold(IEnumerable<ReplayEvent> events, long? upTo = null)
    {
        var state = new ReplayState();
        foreach (var e in events)
        {
            if (upTo is { } last && e.Version > last) break;
            state = Evolve(state, e);
        }
        return state;
    }

    public static ReplayState Evolve(ReplayState s, ReplayEvent e)
    {
        var at = e.At;
        var next = e.Type switch
        {
            "attempt_scheduled" => s with
            {
                AttemptId = e.Text("AttemptId") ?? "", TaskId = e.Text("TaskId") ?? "", Variant = e.Text("Variant") ?? "",
                Agent = e.Text("Agent") ?? "", TimeBudget = e.Duration("TimeBudget") ?? TimeSpan.Zero, Status = "scheduled",
            },
            "attempt_queued" => s with { Status = "queued" },
            "attempt_started" => s with { Status = "running", StartedAt = at },
            "action_requested" => WithFile(s with { Actions = s.Actions + 1 }, e),
            "action_completed" => s with { ActionsCompleted = s.ActionsCompleted + 1 },
            "intermediate_score_recorded" => s with
            {
                Scores = s.Scores.Add(new ScoreEntry(e.Version, e.Text("StepId") ?? "", e.Bool("Valid"), e.Double("RawScore"),
                    e.Double("NormalizedScore"), e.Long("ElapsedMs"), e.Text("InvalidReason"))),
            },
            "model_call_completed" => s with
            {
                ModelCalls = s.ModelCalls + 1, InputTokens = s.InputTokens + e.Long("InputTokens"),
                OutputTokens = s.OutputTokens + e.Long("OutputTokens"), ReasoningTokens = s.ReasoningTokens + e.Long("ReasoningTokens"),
                CostUsd = s.CostUsd + (e.Double("CostUsd") ?? 0),
            },
            "attempt_paused" => s with { Status = "paused", PausedSince = at },
            "attempt_resumed" => s with
            {
                Status = "running", PausedSince = null,
                PausedTotal = s.PausedTotal + (s.PausedSince is { } since && at is { } now ? now - since : e.Duration("PausedFor") ?? TimeSpan.Zero),
            },
            "submission_received" => s with { Status = "finalizing", EndReason = "submitted" },
            "budget_exhausted" => s with { Status = "finalizing", EndReason = "budget_exhausted" },
            "final_score_recorded" => s with
            {
                FinalValid = e.Bool("Valid"), FinalRawScore = e.Double("RawScore"), FinalNormalizedScore = e.Double("NormalizedScore"),
            },
            "attempt_completed" => Ended(s, "completed", at, e.Text("Reason")),
            "attempt_failed" => Ended(s, "failed", at, e.Text("Reason")),
            "attempt_cancelled" => Ended(s, "cancelled", at, e.Text("Reason")),
            _ => s,
        };
        return next with { Version = e.Version, AsOf = at ?? s.AsOf };
    }

    private static ReplayState Ended(ReplayState s, string status, DateTimeOffset? at, string? reason) => s with
    {
        Status = status, EndedAt = at,
        // A paused attempt that ends stops its clock at the pause.
        PausedTotal = s.PausedSince is { } since && at is { } end ? s.PausedTotal + (end - since) : s.PausedTotal,
        PausedSince = null, EndReason = s.EndReason ?? reason,
    };

    private static ReplayState WithFile(ReplayState s, ReplayEvent e)
    {
        if (e.Text("Kind") != "write_file" || e.Text("Path") is not { Length: > 0 } path) return s;
        return s with { Files = s.Files.SetItem(path, new WrittenFile(path, e.Text("ContentSha256") ?? "", e.Long("ContentSize"), e.Version)) };
    }
}
