using ReBench.Orchestrator.Session;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Terminal;

/// <summary>
/// The human's Score, ScoreLog, Submit, PauseClock and ResumeClock: the attempt-session handler's own logic (same
/// events, same rules, same idempotency by step id), reached through thin public calls restricted to `human`
/// attempts, since the gateway serves the session API itself only to agent drivers on its internal listener.
/// </summary>
public sealed class HumanSteps(AttemptStore attempts, AttemptSessionHandler handler, TerminalSessions terminals)
{
    public async Task<HumanScoreResult> ScoreAsync(Guid attemptId, string stepId, CancellationToken ct)
    {
        await HumanAttempts.RequireHumanAsync(attempts, attemptId, ct);
        return ToHuman(await handler.ScoreAsync(attemptId, StepId(stepId, "score"), ct));
    }

    public async Task<HumanScoreLogResponse> ScoreLogAsync(Guid attemptId, CancellationToken ct)
    {
        await HumanAttempts.RequireHumanAsync(attempts, attemptId, ct);
        var log = await handler.ScoreLogAsync(attemptId, ct);
        var response = new HumanScoreLogResponse();
        response.Entries.AddRange(log.Entries.Select(ToHuman));
        return response;
    }

    public async Task<HumanSubmitResult> SubmitAsync(Guid attemptId, string stepId, string submission, CancellationToken ct)
    {
        await HumanAttempts.RequireHumanAsync(attempts, attemptId, ct);
        // What the terminal showed up to now goes into the stream before the submission ends and seals it.
        await terminals.FlushAsync(attemptId, ct);
        var r = await handler.SubmitAsync(attemptId, StepId(stepId, "submit"), submission, ct);
        return new HumanSubmitResult { FinalScoreValid = r.FinalScoreValid, RawScore = r.RawScore, NormalizedScore = r.NormalizedScore };
    }

    public async Task<HumanClockState> PauseAsync(Guid attemptId, string stepId, string reason, CancellationToken ct)
    {
        await HumanAttempts.RequireHumanAsync(attempts, attemptId, ct);
        return ToHuman(await handler.PauseAsync(attemptId, StepId(stepId, "pause"), string.IsNullOrWhiteSpace(reason) ? "break" : reason, ct));
    }

    public async Task<HumanClockState> ResumeAsync(Guid attemptId, string stepId, CancellationToken ct)
    {
        await HumanAttempts.RequireHumanAsync(attempts, attemptId, ct);
        return ToHuman(await handler.ResumeAsync(attemptId, StepId(stepId, "resume"), ct));
    }

    /// <summary>A caller's step id makes a retry safe; without one, each call is a fresh step.</summary>
    private static string StepId(string given, string kind) =>
        string.IsNullOrWhiteSpace(given) ? $"human:{kind}:{Guid.NewGuid():N}" : given;

    private static HumanScoreResult ToHuman(ScoreResult s) => new()
    {
        Valid = s.Valid, ScoreVisible = s.ScoreVisible, RawScore = s.RawScore, NormalizedScore = s.NormalizedScore,
        MessageJson = s.MessageJson, ElapsedMs = s.ElapsedMs,
    };

    private static HumanClockState ToHuman(ClockState c) => new()
    {
        Paused = c.Paused, WorkingMs = c.WorkingMs, RemainingMs = c.RemainingMs, PausedTotalMs = c.PausedTotalMs,
    };
}
