using System.Diagnostics;
using System.Text.Json.Nodes;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.Submissions;

namespace ReBench.Tasks.Tests;

/// <summary>
/// Runs a bundle variant's real scorer the way the platform does (SubmissionScorer + the local sandbox): the
/// manifest's command through bash, in a fresh home made from agent/ (plus reference/ or test files on top), with
/// HOME and REBENCH_PROTECTED (a copy of scoring/) set, --strip_score_information when the score is hidden, and the
/// outcome read by the platform's own ScorerOutcomes.Interpret.
/// </summary>
public sealed class Batch2BundleRunner : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-batch2-").FullName;
    private int _runs;

    public static TaskCatalog Catalog { get; } = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));

    public static TaskVariant Variant(string taskId, string variant = "cpu") => Catalog.Resolve(taskId, variant);

    public sealed record Run(ScoreOutcome Outcome, string Home, string Stdout, string Stderr)
    {
        public JsonObject Message => JsonNode.Parse(Outcome.MessageJson)!.AsObject();
        public string Error => Message["error"]?.GetValue<string>() ?? "";
    }

    /// <summary>A fresh environment: agent files, then the reference solution when asked, then <paramref name="files"/>.</summary>
    public async Task<Run> ScoreAsync(TaskVariant task, bool reference = false, IDictionary<string, string>? files = null)
    {
        var env = Path.Combine(_root, $"env{Interlocked.Increment(ref _runs)}");
        var home = Path.Combine(env, "home");
        var protectedDir = Path.Combine(env, "protected");
        Copy(task.Folders.Agent, home);
        if (reference) Copy(task.Folders.Reference, home);
        Copy(task.Folders.Scoring, protectedDir);
        foreach (var (path, text) in files ?? new Dictionary<string, string>())
        {
            var target = Path.Combine(home, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, text);
        }

        var rules = task.Scoring;
        var start = new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { "-c", rules.ScoreVisible ? rules.Command : rules.Command + " --strip_score_information" },
            WorkingDirectory = home,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["HOME"] = home;
        start.Environment["REBENCH_PROTECTED"] = protectedDir;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var timedOut = false;
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(rules.TimeoutSeconds)))
        {
            try { await process.WaitForExitAsync(limit.Token); }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        var run = new ScorerRun(process.ExitCode, timedOut, false, clock.ElapsedMilliseconds, await stdout, await stderr);
        return new Run(ScorerOutcomes.Interpret(run, rules), home, run.Stdout, run.Stderr);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}__pycache__{Path.DirectorySeparatorChar}")) continue;
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
