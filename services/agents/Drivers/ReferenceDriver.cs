using ReBench.Agents.Session;
using ReBench.Scoring.V1;

namespace ReBench.Agents.Drivers;

/// <summary>
/// Writes the task's expert reference solution into the environment, then scores and submits it: the run every task
/// should normalize to about 1, which checks a task bundle end to end.
/// </summary>
public sealed class ReferenceDriver(Scoring.V1.Scoring.ScoringClient scoring, TransientRetry retry) : IAgentDriver
{
    public string Name => "reference";
    public string Description => "Writes the task's reference solution files, lists them, scores once and submits.";
    public IReadOnlyList<string> RequiredSettings => [];

    public async Task RunAsync(AgentRunContext context, CancellationToken ct)
    {
        var request = new GetReferenceSolutionRequest { TaskId = context.TaskId, Variant = context.Variant };
        var solution = await retry.RunAsync("GetReferenceSolution",
            c => scoring.GetReferenceSolutionAsync(request, cancellationToken: c).ResponseAsync, ct);
        if (solution.Files.Count == 0)
            throw new InvalidOperationException($"task '{context.TaskId}' variant '{context.Variant}' has no reference solution files");

        foreach (var file in solution.Files)
        {
            var written = await context.Session.WriteFileAsync(file.Path, file.Content, ct);
            if (!string.IsNullOrEmpty(written.Error))
                throw new InvalidOperationException($"writing reference file '{file.Path}' failed: {written.Error}");
        }
        // Shows in the attempt's log exactly what was written, for whoever reviews the run.
        var paths = string.Join(" ", solution.Files.Select(f => ShellQuote(f.Path)));
        await context.Session.RunAsync($"ls -la -- {paths}", 60, ct);
        await context.Session.ScoreAsync(ct);
        await context.Session.SubmitAsync("", ct);
    }

    private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
