using ReBench.Scoring.V1;
using ScottPlot;

namespace ReBench.Cli.Plots;

/// <summary>
/// The paper's figures from report answers (rebench-spec 5.1): score@k against k (Fig. 2's curves), score against the
/// total time budget (the 2 h / 8 h / 32 h comparison) and score over time within an attempt (Fig. 4). Every figure has
/// labelled axes, a legend, the expert reference (1) and the starting solution (0) as lines, and 95% intervals shaded
/// where the report has them. Drawn with ScottPlot; written as SVG or PNG by the file's extension.
/// </summary>
public static class ReportFigures
{
    public const int Width = 1100, Height = 600;

    /// <summary>Null when <paramref name="file"/> can be written as a figure, else what is wrong (checked before any call is made).</summary>
    public static string? Problem(FileInfo file) =>
        Extension(file) is ".svg" or ".png" ? null : $"--plot {file.Name}: the file name must end in .svg or .png";

    public static void Save(Plot plot, FileInfo file)
    {
        file.Directory?.Create();
        if (Extension(file) == ".png") plot.SavePng(file.FullName, Width, Height);
        else plot.SaveSvg(file.FullName, Width, Height);
    }

    /// <summary>The k of a score@k figure: powers of two below <paramref name="k"/>, then k itself.</summary>
    public static IReadOnlyList<int> CurveKs(int k) =>
        [.. Enumerable.Range(0, 31).Select(i => 1 << i).TakeWhile(p => p < k), k];

    /// <summary>One curve per (agent, per-attempt budget) over the k asked; rows the server marked extrapolated are dashed.</summary>
    public static Plot ScoreAtK(IReadOnlyList<ScoreAtKResponse> answers)
    {
        var plot = Frame("score@k: best of k attempts per task, averaged over tasks", "k (attempts drawn per task)");
        var ks = answers.SelectMany(a => a.Rows).Select(r => r.K).Distinct().Order().ToList();
        var curves = answers.SelectMany(a => a.Rows)
            .GroupBy(r => (r.Agent, Budget: r.AttemptBudget?.ToTimeSpan() ?? TimeSpan.Zero))
            .OrderBy(g => g.Key.Agent, StringComparer.Ordinal).ThenBy(g => g.Key.Budget);
        var top = 1.0;
        foreach (var g in curves)
        {
            var rows = g.OrderBy(r => r.K).ToList();
            top = Math.Max(top, AddCurve(plot, $"{g.Key.Agent}, {BudgetText(g.Key.Budget)} attempts",
                rows.Select(r => Math.Log2(r.K)).ToArray(), rows.Select(r => r.Score).ToArray(),
                rows.Select(r => r.CiLow).ToArray(), rows.Select(r => r.CiHigh).ToArray(), dashed: rows.Any(r => r.Extrapolated)));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ks.Select(k => Math.Log2(k)).ToArray(), ks.Select(k => k.ToString(CultureInfo.InvariantCulture)).ToArray());
        return Finish(plot, ks.Count == 0 ? (0, 1) : (Math.Log2(ks[0]) - 0.25, Math.Log2(ks[^1]) + 0.25), top);
    }

    /// <summary>Each agent's best allocation at each total budget (the report's starred row), 95% interval shaded, allocation written beside the point.</summary>
    public static Plot Budgets(IReadOnlyList<(TimeSpan Total, TimeBudgetsResponse Answer)> answers)
    {
        var plot = Frame("score at a total time budget (each agent's best allocation)", "total time budget (log scale)");
        var points = answers.SelectMany(a => a.Answer.BestRowByAgent.Select(b => (a.Total, Agent: b.Key, Row: a.Answer.Rows[b.Value])))
            .GroupBy(p => p.Agent).OrderBy(g => g.Key, StringComparer.Ordinal);
        var top = 1.0;
        var index = 0;
        foreach (var g in points)
        {
            var rows = g.OrderBy(p => p.Total).ToList();
            var xs = rows.Select(p => Math.Log2(p.Total.TotalHours)).ToArray();
            top = Math.Max(top, AddCurve(plot, g.Key, xs, rows.Select(p => p.Row.Score).ToArray(), rows.Select(p => p.Row.CiLow).ToArray(),
                rows.Select(p => p.Row.CiHigh).ToArray(), dashed: rows.Any(p => p.Row.Extrapolated)));
            // The allocation (k x per-attempt budget) beside each point; alternate agents above and below so labels of
            // points that meet do not cover each other.
            var above = index++ % 2 == 0;
            foreach (var (x, p) in xs.Zip(rows))
            {
                var label = plot.Add.Text($"{p.Row.K}×{BudgetText(p.Row.AttemptBudget.ToTimeSpan())}", x, p.Row.Score);
                label.LabelFontSize = 11;
                label.LabelFontColor = plot.Add.Palette.GetColor(index - 1);
                label.LabelAlignment = above ? Alignment.LowerLeft : Alignment.UpperLeft;
                label.OffsetY = above ? -4 : 4;
            }
        }
        var totals = answers.Select(a => a.Total).Distinct().Order().ToList();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            totals.Select(t => Math.Log2(t.TotalHours)).ToArray(), totals.Select(BudgetText).ToArray());
        return Finish(plot, totals.Count == 0 ? (0, 1) : (Math.Log2(totals[0].TotalHours) - 0.5, Math.Log2(totals[^1].TotalHours) + 0.75), top);
    }

    /// <summary>Each agent's average over tasks against working time: the log-linear curve, or the best-so-far steps.</summary>
    public static Plot OverTime(ScoreOverTimeResponse answer, bool steps)
    {
        var plot = Frame(steps ? "best score so far within an attempt (steps)" : "score over time within an attempt (log-linear interpolation, paper Fig. 4)",
            "working time (hours)");
        double end = 0, top = 1;
        foreach (var s in answer.Series.Where(s => s.Task.Length == 0).OrderBy(s => s.Agent, StringComparer.Ordinal))
        {
            var xs = s.Points.Select(p => p.Elapsed.ToTimeSpan().TotalHours).ToArray();
            var ys = s.Points.Select(p => steps ? p.BestSoFar : p.LogLinear).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = $"{s.Agent} ({s.Attempts} attempts)";
            line.LineWidth = 2;
            if (steps) line.ConnectStyle = ConnectStyle.StepHorizontal;
            end = Math.Max(end, xs.DefaultIfEmpty(0).Max());
            top = Math.Max(top, ys.DefaultIfEmpty(0).Max());
        }
        return Finish(plot, (0, end > 0 ? end : 1), top);
    }

    private static Plot Frame(string title, string xLabel)
    {
        var plot = new Plot();
        plot.Title(title, size: 16);
        plot.XLabel(xLabel, size: 14);
        plot.YLabel("normalized score (0 = start, 1 = reference)", size: 14);
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        return plot;
    }

    /// <returns>The curve's highest point, interval included.</returns>
    private static double AddCurve(Plot plot, string label, double[] xs, double[] ys, double[] lows, double[] highs, bool dashed)
    {
        var color = plot.Add.Palette.GetColor(plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Count());
        if (xs.Length > 1 && lows.Concat(highs).All(double.IsFinite))
        {
            var band = plot.Add.FillY(xs, lows, highs);
            band.FillColor = color.WithAlpha(0.18);
            band.LineWidth = 0;
        }
        else
        {
            for (var i = 0; i < xs.Length; i++)
                if (double.IsFinite(lows[i]) && double.IsFinite(highs[i]))
                {
                    var bar = plot.Add.ErrorBar([xs[i]], [ys[i]], [highs[i] - ys[i]]);
                    bar.YErrorNegative = [ys[i] - lows[i]];
                    bar.Color = color;
                }
        }
        var line = plot.Add.Scatter(xs, ys);
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        line.LegendText = dashed ? label + " (dashed: extrapolated)" : label;
        if (dashed) line.LinePattern = LinePattern.Dashed;
        return ys.Concat(highs).Where(double.IsFinite).DefaultIfEmpty(0).Max();
    }

    /// <summary>Reference lines, the y range (0 to at least 1.1, so figures of different runs compare at a glance), the legend.</summary>
    private static Plot Finish(Plot plot, (double Min, double Max) x, double top)
    {
        var reference = plot.Add.HorizontalLine(1, width: 1.5f, color: Colors.Black, pattern: LinePattern.Dotted);
        reference.LegendText = "expert reference (1)";
        var start = plot.Add.HorizontalLine(0, width: 1, color: Colors.Gray);
        start.LegendText = "starting solution (0)";
        plot.Axes.SetLimits(x.Min, x.Max, -0.05, Math.Max(1.1, top * 1.08));
        // Beside the axes, never over the curves.
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    public static string BudgetText(TimeSpan t) => t.TotalHours >= 1 && t.TotalHours == Math.Floor(t.TotalHours)
        ? $"{t.TotalHours:0}h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#}m" : $"{t.TotalSeconds:0.#}s";

    private static string Extension(FileInfo file) => file.Extension.ToLowerInvariant();
}
