using ReBench.Scoring.Reports;
using static ReBench.Reports.Tests.Results;

namespace ReBench.Reports.Tests;

/// <summary>score@k against cases computed by hand (E[max of k draws with replacement], averaged over tasks).</summary>
public sealed class ScoreAtKTests
{
    private const double Tolerance = 1e-12;

    [Theory]
    // {0, 1}: the max of k draws is 0 only when every draw is 0: E = 1 - (1/2)^k. k = 4 > n = 2 still works.
    [InlineData(1, 0.5)]
    [InlineData(2, 0.75)]
    [InlineData(4, 0.9375)]
    public void Two_attempts_zero_and_one(int k, double expected) =>
        Assert.Equal(expected, ScoreAtK.ExpectedMaxOfK([1.0, 0.0], k), Tolerance);

    [Fact]
    public void Ties_count_once()
    {
        // {0.3, 0.3, 0.9}, k = 2: the max is 0.3 iff both draws hit a 0.3: P = (2/3)^2 = 4/9.
        Assert.Equal(0.3 * 4 / 9 + 0.9 * 5 / 9, ScoreAtK.ExpectedMaxOfK([0.3, 0.9, 0.3], 2), Tolerance);
        // All tied: any k gives the tied value.
        Assert.Equal(0.5, ScoreAtK.ExpectedMaxOfK([0.5, 0.5], 7), Tolerance);
    }

    [Fact]
    public void K_larger_than_the_attempts_of_a_single_attempt_task_is_that_attempt() =>
        Assert.Equal(0.42, ScoreAtK.ExpectedMaxOfK([0.42], 16), Tolerance);

    [Fact]
    public void Rows_average_over_tasks_count_NaN_only_tasks_as_zero_and_list_missing_tasks()
    {
        var results = new List<AttemptResult>
        {
            Completed("a", "t1", 0.0), Completed("a", "t1", 1.0),
            Completed("a", "t2", 0.5), Completed("a", "t2", 0.5),
            NoValidScore("a", "t3"), NoValidScore("a", "t3"),
            // Not completed: never part of score@k, however good.
            Completed("a", "t2", 1.0).WithStatus("failed"),
            Completed("a", "t2", 1.0).WithStatus("cancelled"),
            // Agent b ran only t1: t2 and t3 are missing for it, not zero.
            Completed("b", "t1", 0.2),
        };

        var rows = ScoreAtK.Rows(results, 2, BootstrapOptions.Default);

        Assert.Equal(["a", "b"], rows.Select(r => r.Agent));
        var a = rows[0];
        Assert.Equal((0.75 + 0.5 + 0) / 3, a.Score, Tolerance);
        Assert.Equal(6, a.Attempts);
        Assert.Empty(a.MissingTasks);
        var t3 = Assert.Single(a.PerTask, t => t.Task == "t3:main");
        Assert.Equal(0, t3.Score);
        Assert.Equal(2, t3.AttemptsWithoutValidScore);
        Assert.Equal(2, Assert.Single(a.PerTask, t => t.Task == "t2:main").Attempts); // the failed and cancelled ones are out

        var b = rows[1];
        Assert.Equal(0.2, b.Score, Tolerance);
        Assert.Equal(["t2:main", "t3:main"], b.MissingTasks);
        Assert.Single(b.PerTask);
        Assert.Equal(0.2, b.CiLow, Tolerance); // one attempt: every resample is the same
        Assert.Equal(0.2, b.CiHigh, Tolerance);
    }

    [Fact]
    public void One_row_per_agent_and_budget()
    {
        var rows = ScoreAtK.Rows([Completed("a", "t1", 0.1, HalfHour), Completed("a", "t1", 0.7, TwoHours)], 1, BootstrapOptions.Default);
        Assert.Equal([(HalfHour, 0.1), (TwoHours, 0.7)], rows.Select(r => (r.BudgetSeconds, r.Score)));
    }

    [Fact]
    public void Bootstrap_interval_is_deterministic_given_the_seed_and_brackets_the_spread()
    {
        var results = new[] { Completed("a", "t1", 0.0), Completed("a", "t1", 1.0), Completed("a", "t2", 0.3), Completed("a", "t2", 0.9), Completed("a", "t2", 0.6) };
        var first = ScoreAtK.Rows(results, 1, new BootstrapOptions(42, 2000))[0];
        var again = ScoreAtK.Rows(results.Reverse(), 1, new BootstrapOptions(42, 2000))[0]; // store order must not matter

        Assert.Equal((first.CiLow, first.CiHigh), (again.CiLow, again.CiHigh));
        // k = 1 is the mean: (0.5 + 0.6) / 2. Resampled task means stay within [0, 1] and [0.3, 0.9].
        Assert.Equal(0.55, first.Score, Tolerance);
        Assert.InRange(first.CiLow, 0.15, first.Score);
        Assert.InRange(first.CiHigh, first.Score, 0.95);
    }

    [Fact]
    public void Another_seed_draws_other_resamples()
    {
        // 50 distinct scores: two seeds giving the same percentiles would mean the seed is ignored.
        double[] scores = Enumerable.Range(0, 50).Select(i => i / 49.0).ToArray();
        var one = ScoreAtK.BootstrapInterval([scores], 1, new BootstrapOptions(42, 200), "row");
        var same = ScoreAtK.BootstrapInterval([scores], 1, new BootstrapOptions(42, 200), "row");
        var other = ScoreAtK.BootstrapInterval([scores], 1, new BootstrapOptions(43, 200), "row");
        Assert.Equal(one, same);
        Assert.NotEqual(one, other);
    }

    [Fact]
    public void Bootstrap_of_zero_and_one_spans_the_whole_range()
    {
        // Each resample of {0, 1} (k = 1) has mean 0, 0.5 or 1 with probability 1/4, 1/2, 1/4: the 2.5th and
        // 97.5th percentiles of 1000 resamples are 0 and 1.
        var (low, high) = ScoreAtK.BootstrapInterval([[0.0, 1.0]], 1, new BootstrapOptions(7, 1000), "row");
        Assert.Equal((0.0, 1.0), (low, high));
    }

    [Fact]
    public void Percentile_interpolates_between_ranks()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(2.5, ScoreAtK.Percentile(sorted, 0.5), Tolerance);
        Assert.Equal(1.075, ScoreAtK.Percentile(sorted, 0.025), Tolerance);
        Assert.Equal(4, ScoreAtK.Percentile(sorted, 1), Tolerance);
    }

    [Fact]
    public void Rejects_K_below_one() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreAtK.ExpectedMaxOfK([1.0], 0));
}
