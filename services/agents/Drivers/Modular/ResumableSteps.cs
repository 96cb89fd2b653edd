using Google.Protobuf;
using Grpc.Core;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Modular;

/// <summary>
/// The session steps of the Modular tools. While a resumed run replays its recorded turns, each step is matched to the
/// next recorded one: a completed step returns its recorded result without acting, and one whose result was cut off is
/// sent again under its recorded step id, so the orchestrator completes it once. After the record, steps are live.
/// </summary>
public sealed class ResumableSteps(
    SessionClient session, AttemptSession.AttemptSessionClient client, TransientRetry retry, IEnumerable<RecordedStep> recorded, ILogger logger)
{
    private readonly Queue<RecordedStep> _recorded = new(recorded);

    public int Replayed { get; private set; }

    public async Task<ActResult> RunAsync(string command, int timeoutSeconds, CancellationToken ct)
    {
        if (Next("run", command) is not { } step) return await session.RunAsync(command, timeoutSeconds, ct);
        return step.Completed ? step.Act : await ResendAsync(new ActRequest
        {
            AttemptId = session.AttemptId, StepId = step.StepId, Run = new RunCommand { Command = command, TimeoutSeconds = timeoutSeconds },
        }, ct);
    }

    public async Task<ActResult> WriteFileAsync(string path, ByteString content, CancellationToken ct)
    {
        if (Next("write_file", path) is not { } step) return await session.WriteFileAsync(path, content, ct);
        return step.Completed ? step.Act : await ResendAsync(new ActRequest
        {
            AttemptId = session.AttemptId, StepId = step.StepId, WriteFile = new WriteFile { Path = path, Content = content },
        }, ct);
    }

    public async Task<ScoreResult> ScoreAsync(CancellationToken ct)
    {
        if (Next("score", null) is not { } step) return await session.ScoreAsync(ct);
        return step.Completed ? step.Score : await Call("Score", c => client.ScoreAsync(
            new ScoreRequest { AttemptId = session.AttemptId, StepId = step.StepId }, cancellationToken: c).ResponseAsync, ct);
    }

    public Task<SubmitResult> SubmitAsync(string submission, CancellationToken ct) =>
        // A recorded submit ended the attempt: the orchestrator answers FAILED_PRECONDITION, which ends this run too.
        session.SubmitAsync(submission, ct);

    public Task<ScoreLogResponse> ScoreLogAsync(CancellationToken ct) => session.ScoreLogAsync(ct);

    /// <summary>The next recorded step when it is this one; on a mismatch the record is dropped and the run goes live.</summary>
    private RecordedStep? Next(string kind, string? what)
    {
        if (!_recorded.TryPeek(out var step)) return null;
        var same = step.Kind == kind && (what is null || (kind == "run" ? step.Command == what : step.Path == what));
        if (!same)
        {
            logger.LogWarning("Attempt {Attempt}: resumed run asked for {Kind} but step {Step} recorded {Recorded}; replay stops here",
                session.AttemptId, kind, step.StepId, step.Kind);
            _recorded.Clear();
            return null;
        }
        Replayed++;
        return _recorded.Dequeue();
    }

    private Task<ActResult> ResendAsync(ActRequest request, CancellationToken ct) =>
        Call($"Act {request.StepId} (resumed)", c => client.ActAsync(request, cancellationToken: c).ResponseAsync, ct);

    private async Task<T> Call<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(what, call, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            throw new AttemptEndedException(e.Status.Detail);
        }
    }
}
