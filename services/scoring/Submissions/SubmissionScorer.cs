using System.Text;
using Grpc.Core;
using ReBench.Sandbox.V1;
using ReBench.Scoring.Catalog;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Submissions;

/// <summary>Runs a task's scorer in the attempt's sandbox environment, with access to the protected area.</summary>
public sealed class SubmissionScorer(Sandbox.V1.Sandbox.SandboxClient sandbox, TimeProvider time)
{
    /// <summary>Room beyond the scorer's own limit for the sandbox to kill it and report back.</summary>
    private static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(60);

    public async Task<ScoreOutcome> ScoreAsync(string attemptId, string environmentId, TaskVariant task, CancellationToken ct)
    {
        var rules = task.Scoring;
        var request = new ExecRequest
        {
            EnvironmentId = environmentId,
            // Hidden-score variants ask the scorer to keep the number out of the message the agent reads (rebench-spec 1).
            Command = rules.ScoreVisible ? rules.Command : rules.Command + " --strip_score_information",
            TimeoutSeconds = rules.TimeoutSeconds,
            AsScorer = true,
        };
        var deadline = time.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(rules.TimeoutSeconds) + DeadlineGrace;
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        ExecExit? exit = null;
        try
        {
            using var call = sandbox.Exec(request, deadline: deadline, cancellationToken: ct);
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            {
                switch (e.EventCase)
                {
                    case ExecEvent.EventOneofCase.Stdout: e.Stdout.WriteTo(stdout); break;
                    case ExecEvent.EventOneofCase.Stderr: e.Stderr.WriteTo(stderr); break;
                    case ExecEvent.EventOneofCase.Exit: exit = e.Exit; break;
                }
            }
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            throw Guard.FailedPrecondition($"attempt {attemptId} has no sandbox environment '{environmentId}' to score in: {e.Status.Detail}");
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"running the scorer of {task.TaskId}/{task.Name} in environment '{environmentId}' failed in the sandbox service: {e.Status.StatusCode}: {e.Status.Detail}"));
        }
        if (exit is null)
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"the sandbox ended the scorer's output for environment '{environmentId}' without an exit status"));

        var run = new ScorerRun(exit.ExitCode, exit.TimedOut, exit.OomKilled, exit.DurationMs,
            Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
        return ScorerOutcomes.Interpret(run, rules);
    }
}
