using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Terminal;
using ReBench.Orchestrator.V1;
using static ReBench.Orchestrator.Grpc.ApiCalls;

namespace ReBench.Orchestrator.Grpc;

/// <summary>gRPC adapter of the public HumanBaselines service: the human's terminal and own steps (Terminal/).</summary>
public sealed class HumanBaselinesGrpc(HumanTerminal terminal, HumanSteps steps) : V1.HumanBaselines.HumanBaselinesBase
{
    // A refusal becomes its status in DomainRejectionInterceptor, duplex calls included.
    public override Task OpenTerminal(IAsyncStreamReader<HumanTerminalInput> requestStream,
        IServerStreamWriter<HumanTerminalOutput> responseStream, ServerCallContext context) =>
        terminal.RunAsync(requestStream, responseStream, Caller(context), context.CancellationToken);

    public override Task<HumanScoreResult> HumanScore(HumanStepRequest request, ServerCallContext context) =>
        steps.ScoreAsync(AttemptId(request.AttemptId), request.StepId, context.CancellationToken);

    public override Task<HumanScoreLogResponse> HumanScoreLog(HumanStepRequest request, ServerCallContext context) =>
        steps.ScoreLogAsync(AttemptId(request.AttemptId), context.CancellationToken);

    public override Task<HumanSubmitResult> HumanSubmit(HumanStepRequest request, ServerCallContext context) =>
        steps.SubmitAsync(AttemptId(request.AttemptId), request.StepId, request.Submission, context.CancellationToken);

    public override Task<HumanClockState> HumanPauseClock(HumanStepRequest request, ServerCallContext context) =>
        steps.PauseAsync(AttemptId(request.AttemptId), request.StepId, request.Reason, context.CancellationToken);

    public override Task<HumanClockState> HumanResumeClock(HumanStepRequest request, ServerCallContext context) =>
        steps.ResumeAsync(AttemptId(request.AttemptId), request.StepId, context.CancellationToken);
}
