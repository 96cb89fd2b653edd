namespace ReBench.Tasks.Tests;

/// <summary>
/// Rust CodeContests, cpu variant, scored inside the sandbox with isolation on (bubblewrap namespaces, agent user
/// with group protected, the task's memory/pids/CPU cgroups): the reference must still solve what it solves on the
/// host. The verdicts carry the compiler's first error, so a broken toolchain in the sandbox shows up here.
/// </summary>
[Trait("Category", "Slow")]
public sealed class IsolatedRustTests(IsolatedScoring platform) : IClassFixture<IsolatedScoring>
{
    private static readonly Scoring.Catalog.TaskVariant Task = BundleScorer.Variant("ai_rd_rust_codecontests_inference");

    /// <summary>rustc (and pwd) need a working directory getcwd() resolves inside the sandbox: the 0/8 cause.</summary>
    [Fact]
    public async Task Scorer_commands_have_a_resolvable_working_directory()
    {
        var env = await platform.NewEnvironmentAsync(Task, reference: false);
        try
        {
            var (exit, output) = await platform.ExecAsync(env, "pwd && /bin/pwd && /usr/bin/python3 -c 'import os; print(os.getcwd())' && rustc --version", asScorer: true);
            Assert.True(exit == 0, output);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(lines[0], lines[1]);
            Assert.Equal(lines[0], lines[2]);
            Assert.EndsWith("home", lines[0]);
            Assert.StartsWith("rustc ", lines[3]);
        }
        finally
        {
            await platform.DestroyAsync(env);
        }
    }

    [Fact]
    public async Task Reference_solves_its_problems_inside_the_sandbox()
    {
        var env = await platform.NewEnvironmentAsync(Task, reference: true);
        try
        {
            var outcome = await platform.ScoreAsync(env, Task);
            var explain = $"valid={outcome.Valid} raw={outcome.Raw} message={outcome.MessageJson} details={outcome.DetailsJson}";
            Assert.True(outcome.Valid, explain);
            Assert.False(outcome.DetailsJson.Contains("compile_error"), explain);
            Assert.True(outcome.Normalized >= 0.85, explain);
        }
        finally
        {
            await platform.DestroyAsync(env);
        }
    }
}
