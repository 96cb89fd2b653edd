using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReBench.Scoring.Reports;
using static ReBench.Reports.Tests.Results;

namespace ReBench.Reports.Tests;

/// <summary>
/// The bootstrap resamples the sources of variance: tasks, then attempts within each drawn task (issue 18), so one
/// attempt per task no longer gives a zero-width interval; the fixed-task bootstrap keeps the within-suite view; and
/// an independent implementation (numpy, written from the paper's description) agrees with the platform's numbers.
/// </summary>
public sealed class HierarchicalBootstrapTests
{
    // The demo's shape that hid the uncertainty: seven tasks, one attempt each, scores 1.000 to 1.033.
    private static readonly double[] OneAttemptPerTask = [1.000, 1.009, 1.002, 1.033, 1.011, 1.000, 1.008];

    private static List<AttemptResult> Demo() =>
        OneAttemptPerTask.Select((s, i) => Completed("reference", $"t{i}", s)).ToList();

    [Fact]
    public void One_attempt_per_task_gives_an_interval_as_wide_as_the_spread_between_tasks()
    {
        var row = ScoreAtK.Rows(Demo(), 1, new BootstrapOptions(1, 4000))[0];
        Assert.True(row.CiHigh - row.CiLow > 0.005, $"[{row.CiLow}, {row.CiHigh}] hides the spread between tasks");
        Assert.InRange(row.Score, row.CiLow, row.CiHigh);
        Assert.InRange(row.CiLow, OneAttemptPerTask.Min(), row.Score);
        Assert.InRange(row.CiHigh, row.Score, OneAttemptPerTask.Max());
        // Control: with the task set fixed the same data has no spread left to resample.
        var fixedTasks = ScoreAtK.Rows(Demo(), 1, new BootstrapOptions(1, 4000, FixedTasks: true))[0];
        Assert.Equal(fixedTasks.CiLow, fixedTasks.CiHigh, 1e-12);
    }

    [Fact]
    public void No_spread_at_all_gives_a_zero_width_interval()
    {
        var flat = Enumerable.Range(0, 5).SelectMany(t => new[] { Completed("a", $"t{t}", 0.5), Completed("a", $"t{t}", 0.5) }).ToList();
        var row = ScoreAtK.Rows(flat, 2, new BootstrapOptions(3, 1000))[0];
        Assert.Equal((0.5, 0.5), (row.CiLow, row.CiHigh));
    }

    [Fact]
    public void Rows_say_when_K_is_beyond_the_attempts_run()
    {
        var results = new List<AttemptResult> { Completed("a", "t1", 0.1), Completed("a", "t1", 0.9), Completed("a", "t2", 0.4) };
        var atTwo = ScoreAtK.Rows(results, 2, BootstrapOptions.Default)[0];
        Assert.Equal((1, true), (atTwo.MinAttemptsPerTask, atTwo.Extrapolated));
        Assert.False(ScoreAtK.Rows(results, 1, BootstrapOptions.Default)[0].Extrapolated);
    }

    /// <summary>
    /// score@k (exact) and the hierarchical 95% interval (20,000 resamples) from tests/Reports.Tests/independent_score_at_k.py,
    /// numpy only, against the platform's; the intervals come from different generators, so they agree within 0.01.
    /// </summary>
    [Fact]
    public void An_independent_implementation_agrees()
    {
        var scores = new Dictionary<string, double[]>
        {
            ["t1"] = [0.0, 0.2, 0.9, 0.4], ["t2"] = [0.5, 0.55, 0.1], ["t3"] = [1.0, 0.0, 0.3, 0.3, 0.8], ["t4"] = [0.05, 0.6],
        };
        var results = scores.SelectMany(t => t.Value.Select(s => Completed("a", t.Key, s))).ToList();
        foreach (var k in new[] { 1, 2 })
        {
            var row = ScoreAtK.Rows(results, k, new BootstrapOptions(5, 20_000))[0];
            var independent = RunPython(scores, k);
            Assert.Equal(independent.GetProperty("score").GetDouble(), row.Score, 1e-9);
            Assert.Equal(independent.GetProperty("ci_low").GetDouble(), row.CiLow, 0.01);
            Assert.Equal(independent.GetProperty("ci_high").GetDouble(), row.CiHigh, 0.01);
        }
    }

    private static JsonElement RunPython(Dictionary<string, double[]> scores, int k)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "independent_score_at_k.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, k.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(JsonSerializer.Serialize(scores));
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the independent script did not finish");
        Assert.True(p.ExitCode == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
