using ReBench.Scoring.Submissions;

namespace ReBench.Tasks.Tests;

/// <summary>
/// Runs a bundle variant's real scorer as the platform does (SubmissionScorer through the local sandbox): the
/// manifest's command under `bash -c`, in a fresh home made from agent/ (plus reference/ on top for the reference
/// solution, plus whatever the test changes), with HOME and REBENCH_PROTECTED (a fresh copy of scoring/) set and the
/// output interpreted by the platform's own ScorerOutcomes.
/// </summary>
public sealed class BundleScorer : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-bundle-").FullName;
    private int _runs;
    private const int TimeoutSlack = 4;

    public static TaskCatalog Catalog { get; } = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));

    public static TaskVariant Variant(string taskId, string variant = "cpu") => Catalog.Resolve(taskId, variant);

    public sealed record Run(ScoreOutcome Outcome, string Home, string Stdout, string Stderr, TimeSpan Took)
    {
        public JsonObject Message => JsonNode.Parse(Outcome.MessageJson)!.AsObject();
        public JsonObject Details => JsonNode.Parse(Outcome.DetailsJson)!.AsObject();
        public string Error => Message["error"]?.GetValue<string>() ?? "";

        /// <summary>Everything a failed assertion needs to explain itself.</summary>
        public override string ToString() =>
            $"valid={Outcome.Valid} raw={Outcome.Raw} normalized={Outcome.Normalized} reason={Outcome.InvalidReason} took={Took.TotalSeconds:F1}s " +
            $"message={Outcome.MessageJson} details={Outcome.DetailsJson} stderr_tail={Tail(Stderr)}";

        private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];
    }

    /// <summary>
    /// Scores a fresh environment: agent files, the reference solution when asked, then <paramref name="files"/>
    /// (relative path -> text) and <paramref name="prepare"/>(home).
    /// </summary>
    public async Task<Run> ScoreAsync(TaskVariant task, bool reference = false, Action<string>? prepare = null,
        IDictionary<string, string>? files = null)
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
            await File.WriteAllTextAsync(target, text);
        }
        prepare?.Invoke(home);

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
        // The manifest's limit (2 min for cpu variants) is what the platform enforces; these tests check scores, not
        // speed, so on a machine loaded by parallel builds the kill comes later (a scorer that hangs still ends).
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(rules.TimeoutSeconds * TimeoutSlack)))
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
        return new Run(ScorerOutcomes.Interpret(run, rules), home, run.Stdout, run.Stderr, clock.Elapsed);
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

/// <summary>
/// A test class over one bundle variant's real scorer: a fresh <see cref="BundleScorer"/> per test (its temporary
/// environments go with it) and the variant it scores.
/// </summary>
public abstract class BundleScorerTests(string taskId, string variant = "cpu") : IDisposable
{
    protected BundleScorer Scorer { get; } = new();

    protected TaskVariant Task { get; } = BundleScorer.Variant(taskId, variant);

    public void Dispose()
    {
        Scorer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The starting home and the reference solution, scored one after the other.</summary>
    protected async Task<(BundleScorer.Run Start, BundleScorer.Run Reference)> StartAndReferenceAsync() =>
        (await Scorer.ScoreAsync(Task), await Scorer.ScoreAsync(Task, reference: true));
}
