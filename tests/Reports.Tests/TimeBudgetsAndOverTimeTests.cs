using ReBench.Scoring.Reports;
using static ReBench.Reports.Tests.Results;

namespace ReBench.Reports.Tests;

public sealed class TimeBudgetsTests
{
    [Theory]
    [InlineData(EightHours, HalfHour, 16)]
    [InlineData(EightHours, TwoHours, 4)]
    [InlineData(EightHours, EightHours, 1)]
    [InlineData(EightHours, 3 * 3600.0, null)]   // 8 h / 3 h is no whole number of attempts
    [InlineData(EightHours, 16 * 3600.0, null)]  // one attempt longer than the total
    public void K_is_the_total_over_the_per_attempt_budget(double total, double budget, int? k) =>
        Assert.Equal(k, TimeBudgets.KFor(total, budget));

    [Fact]
    public void Compares_allocations_of_eight_hours_and_picks_each_agents_best()
    {
        var results = new[]
        {
            Completed("a", "t1", 0.0, HalfHour), Completed("a", "t1", 0.4, HalfHour),
            Completed("a", "t1", 0.5, TwoHours),
            Completed("a", "t1", 0.6, EightHours),
            Completed("a", "t1", 0.9, 3 * 3600),   // 3 h does not divide 8 h: left out
            Completed("b", "t1", 0.3, HalfHour),
        };

        var report = TimeBudgets.Compare(results, EightHours, null, BootstrapOptions.Default);

        Assert.Equal(
            [("a", HalfHour, 16), ("a", TwoHours, 4), ("a", EightHours, 1), ("b", HalfHour, 16)],
            report.Rows.Select(r => (r.Agent, r.BudgetSeconds, r.K)));
        // 16 draws from {0, 0.4}: 0.4 unless all 16 are 0.
        Assert.Equal(0.4 * (1 - Math.Pow(0.5, 16)), report.Rows[0].Score, 1e-12);
        Assert.Equal(0.5, report.Rows[1].Score, 1e-12);
        Assert.Equal(0.6, report.Rows[2].Score, 1e-12);
        Assert.Equal(0.3, report.Rows[3].Score, 1e-12);
        Assert.Equal(2, report.BestRowByAgent["a"]);
        Assert.Equal(3, report.BestRowByAgent["b"]);
    }

    [Fact]
    public void The_best_allocation_is_chosen_among_rows_covering_the_most_tasks()
    {
        // The report that starred `reference 3m` (1 task covered, 6 missing) over `reference 10m` (all 7 covered).
        const double ThreeMinutes = 180, TenMinutes = 600, ThirtyMinutes = 1800;
        var results = Enumerable.Range(0, 7).Select(t => Completed("reference", $"t{t}", 1.0, TenMinutes))
            .Append(Completed("reference", "t0", 1.05, ThreeMinutes)).ToList();
        var report = TimeBudgets.Compare(results, ThirtyMinutes, null, BootstrapOptions.Default);
        var best = report.Rows[report.BestRowByAgent["reference"]];
        Assert.Equal((TenMinutes, 7), (best.BudgetSeconds, best.PerTask.Count));
        var partial = report.Rows.Single(r => r.BudgetSeconds == ThreeMinutes);
        Assert.Equal(6, partial.MissingTasks.Count); // shown, with its coverage, but not ranked against the full row
        Assert.True(partial.Extrapolated && best.Extrapolated); // k = 10 and 3 from one attempt per task
    }

    /// <summary>
    /// The budgets view for a fixed random data set from tests/Reports.Tests/independent_budgets.py (Monte Carlo best-of-k,
    /// so scores agree within 0.01; the rows, their k, coverage and extrapolation, and each agent's best row exactly).
    /// </summary>
    [Fact]
    public void An_independent_implementation_agrees()
    {
        var rng = new Random(11);
        var results = new List<AttemptResult>();
        foreach (var agent in new[] { "a", "b" })
            foreach (var budget in new[] { HalfHour, TwoHours, EightHours })
                foreach (var task in new[] { "t1", "t2", "t3" })
                {
                    // b has no 2 h attempts on t3: its 2 h row covers fewer tasks and cannot be its best.
                    if (agent == "b" && budget == TwoHours && task == "t3") continue;
                    for (var i = 0; i < rng.Next(1, 6); i++)
                        results.Add(Completed(agent, task, Math.Round(rng.NextDouble() * (budget == EightHours ? 1.0 : 0.7), 3), budget));
                }
        var report = TimeBudgets.Compare(results, EightHours, null, BootstrapOptions.Default);

        var script = Path.Combine(AppContext.BaseDirectory, "independent_budgets.py");
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", [script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(System.Text.Json.JsonSerializer.Serialize(new
        {
            total = EightHours,
            attempts = results.Select(r => new { agent = r.Agent, task = r.TaskKey, budget = r.TimeBudgetSeconds, score = r.ReportScore }),
        }));
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000) && p.ExitCode == 0, error);
        var independent = System.Text.Json.JsonDocument.Parse(output).RootElement;

        var rows = independent.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(rows.Count, report.Rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var (mine, theirs) = (report.Rows[i], rows[i]);
            Assert.Equal((theirs.GetProperty("agent").GetString(), theirs.GetProperty("budget").GetDouble(), theirs.GetProperty("k").GetInt32()),
                (mine.Agent, mine.BudgetSeconds, mine.K));
            Assert.Equal(theirs.GetProperty("tasks").GetInt32(), mine.PerTask.Count);
            Assert.Equal(theirs.GetProperty("extrapolated").GetBoolean(), mine.Extrapolated);
            Assert.Equal(theirs.GetProperty("score").GetDouble(), mine.Score, 0.01);
        }
        foreach (var best in independent.GetProperty("best").EnumerateObject())
            Assert.Equal(best.Value.GetInt32(), report.BestRowByAgent[best.Name]);
        Assert.Equal(2, report.BestRowByAgent.Count);
    }

    [Fact]
    public void Explicit_budgets_restrict_the_comparison()
    {
        var results = new[] { Completed("a", "t1", 0.4, HalfHour), Completed("a", "t1", 0.6, EightHours) };
        var report = TimeBudgets.Compare(results, EightHours, [HalfHour], BootstrapOptions.Default);
        var row = Assert.Single(report.Rows);
        Assert.Equal((HalfHour, 16), (row.BudgetSeconds, row.K));
    }
}

public sealed class ScoreOverTimeTests
{
    private static ResultPoint P(double minutes, double? normalized) =>
        new((long)(minutes * 60_000), normalized is not null, normalized, normalized);

    [Fact]
    public void Best_so_far_ignores_invalid_and_worse_scores_and_holds_after_the_last_one()
    {
        var timeline = new[] { P(10, 0.2), P(20, null), P(40, 0.1), P(50, 0.6) };
        Assert.Equal([0, 0.2, 0.2, 0.2, 0.2, 0.6, 0.6], new[] { 0, 10, 20, 30, 40, 50, 60.0 }.Select(m => ScoreOverTime.BestSoFar(timeline, m * 60)));
    }

    [Fact]
    public void Log_linear_moves_linearly_in_the_log_of_time_between_best_so_far_knots()
    {
        // 0 at 1 h, 0.8 at 4 h: 2 h is half-way in ln(t), so the curve stands at 0.4 there (a linear-time one at 0.267).
        var rising = new[] { P(60, 0.0), P(240, 0.8) };
        Assert.Equal(0.4, ScoreOverTime.LogLinear(rising, 120 * 60), 12);
        Assert.Equal(0.0, ScoreOverTime.BestSoFar(rising, 120 * 60));
        // Before the first valid score: the starting solution's 0; after the last: held.
        Assert.Equal(0, ScoreOverTime.LogLinear(rising, 59 * 60));
        Assert.Equal(0.8, ScoreOverTime.LogLinear(rising, 480 * 60));

        // Invalid and worse scores are not knots of their own value: 0.2 at 10 and 40 min (best so far), 0.6 at 50 min.
        var timeline = new[] { P(10, 0.2), P(20, null), P(40, 0.1), P(50, 0.6) };
        Assert.Equal(0.2, ScoreOverTime.LogLinear(timeline, 30 * 60), 12);
        Assert.Equal(0.2 + 0.4 * Math.Log(45.0 / 40) / Math.Log(50.0 / 40), ScoreOverTime.LogLinear(timeline, 45 * 60), 12);
        Assert.Equal(0.2, ScoreOverTime.BestSoFar(timeline, 45 * 60));
    }

    [Fact]
    public void A_score_logged_at_elapsed_zero_counts_from_the_start_and_negative_scores_count_as_zero()
    {
        var timeline = new[] { P(0, -0.3), P(0, 0.5), P(30, 0.9) };
        Assert.Equal(0.5, ScoreOverTime.LogLinear(timeline, 0), 12);
        Assert.Equal(0.5, ScoreOverTime.BestSoFar(timeline, 0));
        Assert.InRange(ScoreOverTime.LogLinear(timeline, 15 * 60), 0.5, 0.9);
        Assert.Equal(0, ScoreOverTime.LogLinear([P(5, -0.3)], 10 * 60));
    }

    /// <summary>The over-time curve for a fixed data set from tests/Reports.Tests/independent_over_time.py (numpy's interp on ln t).</summary>
    [Fact]
    public void An_independent_implementation_agrees()
    {
        var rng = new Random(7);
        var results = new List<AttemptResult>();
        var tasks = new Dictionary<string, List<List<double?[]>>>();
        foreach (var task in new[] { "t1", "t2", "t3" })
            for (var a = 0; a < 4; a++)
            {
                var attempt = Completed("a", task, 0.5, 8 * 3600);
                var timeline = Enumerable.Range(0, rng.Next(0, 6))
                    .Select(_ => P(rng.Next(1, 480), rng.NextDouble() < 0.2 ? null : Math.Round(rng.NextDouble() * 1.2 - 0.1, 3)))
                    .OrderBy(p => p.ElapsedMs).ToList();
                attempt.Timeline = timeline;
                results.Add(attempt);
                var key = task + ":main";
                if (!tasks.TryGetValue(key, out var list)) tasks[key] = list = [];
                list.Add(timeline.Select(p => new[] { p.ElapsedMs / 1000.0, p.Valid ? p.NormalizedScore : null }).ToList());
            }
        var series = ScoreOverTime.Series(results, points: 33);
        var grid = series[0].Points.Select(p => p.Seconds).ToList();

        var independent = RunPython(new { grid, tasks });

        var overall = Assert.Single(series, s => s.Task is null);
        var expected = independent.GetProperty("overall").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(expected.Count, overall.Points.Count);
        for (var i = 0; i < expected.Count; i++) Assert.Equal(expected[i], overall.Points[i].Interpolated, 1e-9);
        foreach (var s in series.Where(s => s.Task is not null))
        {
            var perTask = independent.GetProperty("per_task").GetProperty(s.Task!).EnumerateArray().Select(e => e.GetDouble()).ToList();
            for (var i = 0; i < perTask.Count; i++) Assert.Equal(perTask[i], s.Points[i].Interpolated, 1e-9);
        }
        // A control: the data set has rises between knots, where the two methods differ.
        Assert.Contains(overall.Points, p => Math.Abs(p.Interpolated - p.BestSoFar) > 0.01);
    }

    private static System.Text.Json.JsonElement RunPython(object input)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "independent_over_time.py");
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", [script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(System.Text.Json.JsonSerializer.Serialize(input));
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the independent script did not finish");
        Assert.True(p.ExitCode == 0, error);
        return System.Text.Json.JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact]
    public void Averages_over_attempts_then_tasks()
    {
        var scored = Completed("a", "t1", 0.6, 3600);
        scored.Timeline = [P(10, 0.2), P(20, null), P(40, 0.1), P(50, 0.6)];
        var nothing = Completed("a", "t1", null, 3600); // no score logged at all: 0 throughout
        var other = Completed("a", "t2", 1.0, 3600);
        other.Timeline = [P(0, 1.0)];

        var series = ScoreOverTime.Series([scored, nothing, other], points: 7);

        var t1 = Assert.Single(series, s => s.Task == "t1:main");
        Assert.Equal([0, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3], t1.Points.Select(p => p.BestSoFar));
        // Knots of the scored attempt: 0.2 at 10 and 40 min, 0.6 at 50 min; the grid only meets them, so both curves agree here.
        Assert.Equal([0, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3], t1.Points.Select(p => Math.Round(p.Interpolated, 12)));
        Assert.Equal([0, 600, 1200, 1800, 2400, 3000, 3600.0], t1.Points.Select(p => p.Seconds));
        var all = Assert.Single(series, s => s.Task is null);
        Assert.Equal(3, all.Attempts);
        Assert.Equal([0.5, 0.55, 0.55, 0.55, 0.55, 0.65, 0.65], all.Points.Select(p => Math.Round(p.BestSoFar, 12)));
    }
}

public sealed class CostsTests
{
    [Fact]
    public void Sums_per_campaign_from_model_calls_and_hourly_rates()
    {
        var campaign = Guid.NewGuid();
        var humans = Guid.NewGuid();
        var a1 = Completed("modular", "t1", 0.1, campaign: campaign);
        a1.CostUsd = 1.5; a1.ModelCalls = 3;
        var a2 = Completed("modular", "t1", 0.2, campaign: campaign).WithStatus("failed"); // failed attempts cost too
        a2.CostUsd = 2.25; a2.ModelCalls = 4;
        var h = Completed("human", "t1", 0.8, EightHours, humans);
        h.CostUsd = Costs.HumanCost(100, 8); h.CostBasis = CostBasis.HourlyRate;
        var unknown = Completed("human", "t1", 0.5, EightHours, humans);
        unknown.CostBasis = CostBasis.Unknown;

        var report = Costs.Compute([a1, a2, h, unknown]);

        Assert.Equal(803.75, report.TotalUsd, 1e-9);
        var c = Assert.Single(report.Campaigns, x => x.CampaignId == campaign);
        Assert.Equal((2, 3.75, 7L), (c.Attempts, c.CostUsd, c.ModelCalls));
        var hc = Assert.Single(report.Campaigns, x => x.CampaignId == humans);
        Assert.Equal((2, 800.0, 16.0), (hc.Attempts, hc.CostUsd, hc.WorkingHours));
        Assert.Equal(CostBasis.Unknown, Assert.Single(report.Attempts, l => l.Attempt == unknown).Basis);
    }
}
