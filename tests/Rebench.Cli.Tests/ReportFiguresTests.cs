using System.Xml.Linq;
using Google.Protobuf.WellKnownTypes;
using ReBench.Cli.Plots;
using ReBench.Scoring.V1;

namespace ReBench.Cli.Tests;

/// <summary>
/// The paper's figures drawn from report answers: files in the asked format, with the labels, legend entries and
/// reference lines a reader needs. REBENCH_FIGURES_DIR keeps the PNGs for a look (they were checked by eye once).
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReportFiguresTests : IDisposable
{
    private readonly string _dir = Environment.GetEnvironmentVariable("REBENCH_FIGURES_DIR") is { Length: > 0 } keep
        ? Directory.CreateDirectory(keep).FullName
        : Directory.CreateTempSubdirectory("rebench-figures-").FullName;

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("REBENCH_FIGURES_DIR") is not { Length: > 0 }) Directory.Delete(_dir, recursive: true);
    }

    private static Duration D(double hours) => Duration.FromTimeSpan(TimeSpan.FromHours(hours));

    private static ScoreAtKRow Row(string agent, double budgetHours, int k, double score, double spread, bool extrapolated = false) => new()
    {
        Agent = agent, AttemptBudget = D(budgetHours), K = k, Score = score, CiLow = score - spread, CiHigh = score + spread,
        TasksScored = 7, Extrapolated = extrapolated,
    };

    [Fact]
    public void ScoreAtK_is_a_curve_per_agent_and_budget_with_shaded_intervals_and_the_reference_line()
    {
        var answers = ReportFigures.CurveKs(8).Select(k => new ScoreAtKResponse
        {
            Rows =
            {
                Row("modular", 0.5, k, 0.1 + 0.08 * Math.Log2(k), 0.05),
                Row("aide", 2, k, 0.2 + 0.05 * Math.Log2(k), 0.07, extrapolated: k == 8),
                Row("human", 8, k, 0.6 + 0.06 * Math.Log2(k), 0.1),
            },
        }).ToList();

        var svg = Draw(ReportFigures.ScoreAtK(answers), "score-at-k.svg");

        Assert.Equal([1, 2, 4, 8], ReportFigures.CurveKs(8));
        Assert.Equal([1, 2, 4, 5], ReportFigures.CurveKs(5));
        Assert.Contains("k (attempts drawn per task)", svg);
        Assert.Contains("normalized score (0 = start, 1 = reference)", svg);
        Assert.Contains("modular, 30m attempts", svg);
        Assert.Contains("human, 8h attempts", svg);
        Assert.Contains("aide, 2h attempts (dashed: extrapolated)", svg);
        Assert.Contains("expert reference (1)", svg);
        // The k axis is labelled with the k asked, not log2(k).
        foreach (var k in new[] { "\n1\n", "\n2\n", "\n4\n", "\n8\n" }) Assert.Contains(k, svg);
        Assert.DoesNotContain("\n3\n", svg);
        Draw(ReportFigures.ScoreAtK(answers), "score-at-k.png");
    }

    [Fact]
    public void Budgets_plots_each_agents_best_allocation_against_the_total()
    {
        var answers = new[] { 2.0, 8, 32 }.Select(total =>
        {
            var res = new TimeBudgetsResponse
            {
                Rows =
                {
                    Row("modular", 0.5, (int)(total / 0.5), 0.2 + 0.1 * Math.Log2(total), 0.06),
                    Row("modular", 2, (int)(total / 2), 0.15 + 0.1 * Math.Log2(total), 0.06),
                    Row("human", Math.Min(total, 8), (int)Math.Max(1, total / 8), 0.1 + 0.2 * Math.Log2(total), 0.15),
                },
            };
            res.BestRowByAgent["modular"] = 0;
            res.BestRowByAgent["human"] = 2;
            return (TimeSpan.FromHours(total), res);
        }).ToList();

        var svg = Draw(ReportFigures.Budgets(answers), "budgets.svg");

        Assert.Contains("total time budget (log scale)", svg);
        Assert.Contains("\nmodular\n", svg);
        Assert.Contains("\nhuman\n", svg);
        Assert.Contains("64×30m", svg);   // the allocation behind modular's 32 h point
        foreach (var t in new[] { "\n2h\n", "\n8h\n", "\n32h\n" }) Assert.Contains(t, svg);
        Draw(ReportFigures.Budgets(answers), "budgets.png");
    }

    [Fact]
    public void Over_time_draws_each_agents_average_curve()
    {
        var series = new ScoreOverTimeSeries { Agent = "modular", Task = "", Attempts = 5 };
        for (var i = 0; i <= 16; i++)
            series.Points.Add(new TimePoint
            {
                Elapsed = D(i * 0.5), LogLinear = i == 0 ? 0 : 0.5 * Math.Log(1 + i) / Math.Log(17), BestSoFar = i < 4 ? 0 : 0.1 * (i / 4),
            });
        var perTask = new ScoreOverTimeSeries { Agent = "modular", Task = "t1:main", Attempts = 2 };
        perTask.Points.Add(new TimePoint { Elapsed = D(0), LogLinear = 0.9, BestSoFar = 0.9 });
        var answer = new ScoreOverTimeResponse { Series = { series, perTask } };

        var svg = Draw(ReportFigures.OverTime(answer, steps: false), "over-time.svg");
        var steps = Draw(ReportFigures.OverTime(answer, steps: true), "over-time-steps.svg");

        Assert.Contains("log-linear interpolation", svg);
        Assert.Contains("modular (5 attempts)", svg);
        Assert.DoesNotContain("t1:main", svg);   // per-task series stay in the tables
        Assert.Contains("working time (hours)", svg);
        Assert.Contains("best score so far", steps);
        Draw(ReportFigures.OverTime(answer, steps: false), "over-time.png");
    }

    [Theory]
    [InlineData("figure.pdf")]
    [InlineData("figure")]
    public void A_file_name_that_is_not_Svg_or_Png_is_refused_before_any_call(string name)
    {
        var problem = ReportFigures.Problem(new FileInfo(Path.Combine(_dir, name)));
        Assert.NotNull(problem);
        Assert.Contains("must end in .svg or .png", problem);
        Assert.Null(ReportFigures.Problem(new FileInfo(Path.Combine(_dir, "a.PNG"))));
    }

    [Fact]
    public async Task The_cli_refuses_a_bad_figure_name_with_exit_two_before_calling_the_gateway()
    {
        var (exit, _, err) = await CliInputTests.RunAsync("report", "over-time", "--plot", Path.Combine(_dir, "x.pdf"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("must end in .svg or .png", err);
    }

    /// <summary>Saves the figure; returns the SVG's texts one per line (and a leading and trailing newline), or for a PNG checks the signature and returns "".</summary>
    private string Draw(ScottPlot.Plot plot, string name)
    {
        var file = new FileInfo(Path.Combine(_dir, name));
        ReportFigures.Save(plot, file);
        Assert.True(file.Exists && file.Length > 1000, $"{name}: {file.Length} bytes");
        if (name.EndsWith(".png", StringComparison.Ordinal))
        {
            var head = File.ReadAllBytes(file.FullName).AsSpan(0, 8).ToArray();
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head);
            return "";
        }
        var svg = XDocument.Parse(File.ReadAllText(file.FullName));
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        // One line per text element (legend entries, labels, ticks), as a reader sees them.
        return "\n" + string.Join("\n", svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim())) + "\n";
    }
}
