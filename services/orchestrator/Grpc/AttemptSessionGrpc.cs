using ReBench.Orchestrator.Session;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Grpc;

/// <summary>
/// gRPC adapter of the attempt-session API: validates the request shape, checks the caller's session credential for
/// the attempt (<see cref="SessionGate"/>), then delegates. The shape comes first so that a malformed request is
/// INVALID_ARGUMENT whoever sends it; nothing is read or changed before the credential is checked.
/// </summary>
public sealed class AttemptSessionGrpc(
    AttemptSessionHandler handler, RecordedActionsReader recorded, Budgets.BudgetReservations budgets, StepHistoryReader history, ISessionGate gate)
    : AttemptSession.AttemptSessionBase
{
    public override async Task<StepHistory> GetStepHistory(GetStepHistoryRequest request, ServerCallContext context)
    {
        if (request.FromIndex < 0) throw Guard.Invalid($"from_index must not be negative, got {request.FromIndex}");
        var id = Guard.Id(request.AttemptId, "attempt_id");
        await gate.AuthorizeAsync(id, context);
        return await history.ReadAsync(id, request.FromIndex, context.CancellationToken);
    }

    public override async Task<BudgetGrant> ReserveBudget(ReserveBudgetRequest request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        Guard.Required(request.StepId, "step_id");
        if (request.WorstCaseCostUsd < 0 || !double.IsFinite(request.WorstCaseCostUsd))
            throw Guard.Invalid($"worst_case_cost_usd must be a finite non-negative number, got {request.WorstCaseCostUsd}");
        if (request.WorstCaseTokens < 0) throw Guard.Invalid($"worst_case_tokens must not be negative, got {request.WorstCaseTokens}");
        await gate.AuthorizeAsync(id, context);
        return await budgets.ReserveAsync(id, request, context.CancellationToken);
    }

    /// <summary>The credential is the re-executing attempt's own; which source it may read is the reader's rule.</summary>
    public override async Task<RecordedActions> GetRecordedActions(GetRecordedActionsRequest request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        var source = Guard.Id(request.SourceAttemptId, "source_attempt_id");
        await gate.AuthorizeAsync(id, context);
        return await recorded.ReadAsync(id, source, request.StepId, context.CancellationToken);
    }

    public override async Task<ActResult> Act(ActRequest request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        Guard.Required(request.StepId, "step_id");
        switch (request.ActionCase)
        {
            case ActRequest.ActionOneofCase.Run:
                Guard.Required(request.Run.Command, "run.command");
                if (request.Run.TimeoutSeconds < 0) throw Guard.Invalid($"run.timeout_seconds must not be negative, got {request.Run.TimeoutSeconds}");
                break;
            case ActRequest.ActionOneofCase.WriteFile:
                // A bad path is recorded as the step's failed result (Session/SandboxPaths.cs); only a missing one is a
                // malformed request.
                Guard.Required(request.WriteFile.Path, "write_file.path");
                break;
            default:
                throw Guard.Invalid("action is required: set run or write_file");
        }
        await gate.AuthorizeAsync(id, context);
        return await handler.ActAsync(id, request, context.CancellationToken);
    }

    public override async Task<ScoreResult> Score(ScoreRequest request, ServerCallContext context)
    {
        var (id, step) = await AuthorizedStepAsync(request.AttemptId, request.StepId, context);
        return await handler.ScoreAsync(id, step, context.CancellationToken);
    }

    public override async Task<ScoreLogResponse> ScoreLog(ScoreLogRequest request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        await gate.AuthorizeAsync(id, context);
        return await handler.ScoreLogAsync(id, context.CancellationToken);
    }

    public override async Task<SubmitResult> Submit(SubmitRequest request, ServerCallContext context)
    {
        var (id, step) = await AuthorizedStepAsync(request.AttemptId, request.StepId, context);
        return await handler.SubmitAsync(id, step, request.Submission, context.CancellationToken);
    }

    public override async Task<RecordModelCallResult> RecordModelCall(ModelCallRecord request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        Guard.Required(request.StepId, "step_id");
        Guard.Required(request.Model, "model");
        if (request.InputTokens < 0 || request.OutputTokens < 0 || request.ReasoningTokens < 0 || request.CachedTokens < 0)
            throw Guard.Invalid("token counts must not be negative");
        if (request.CostUsd < 0 || !double.IsFinite(request.CostUsd)) throw Guard.Invalid($"cost_usd must be a finite non-negative number, got {request.CostUsd}");
        await gate.AuthorizeAsync(id, context);
        return await handler.RecordModelCallAsync(id, request, context.CancellationToken);
    }

    public override async Task<AgentNoteResult> RecordAgentNote(AgentNoteRequest request, ServerCallContext context)
    {
        var id = Guard.Id(request.AttemptId, "attempt_id");
        Guard.Required(request.StepId, "step_id");
        if (Attempts.AgentNotes.Problem(request.Kind, request.Json) is { } problem) throw Guard.Invalid(problem);
        await gate.AuthorizeAsync(id, context);
        return await handler.RecordAgentNoteAsync(id, request.StepId, request.Kind, request.Json, context.CancellationToken);
    }

    public override async Task<ClockState> PauseClock(PauseClockRequest request, ServerCallContext context)
    {
        var (id, step) = await AuthorizedStepAsync(request.AttemptId, request.StepId, context);
        return await handler.PauseAsync(id, step, request.Reason, context.CancellationToken);
    }

    public override async Task<ClockState> ResumeClock(ResumeClockRequest request, ServerCallContext context)
    {
        var (id, step) = await AuthorizedStepAsync(request.AttemptId, request.StepId, context);
        return await handler.ResumeAsync(id, step, context.CancellationToken);
    }

    /// <summary>The shape of the calls that name only an attempt and a step: both checked, then the credential.</summary>
    private async Task<(Guid Id, string Step)> AuthorizedStepAsync(string attemptId, string stepId, ServerCallContext context)
    {
        var id = Guard.Id(attemptId, "attempt_id");
        var step = Guard.Required(stepId, "step_id");
        await gate.AuthorizeAsync(id, context);
        return (id, step);
    }
}
