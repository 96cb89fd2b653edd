using System.Globalization;
using System.Security;
using System.Text;
using ReBench.Scoring.V1;

namespace ReBench.Cli.Commands;

/// <summary>A hand-written SVG bar chart of score@k rows: one bar per (agent, budget), 95% CI as whiskers.</summary>
internal static class ScoreAtKPlot
{
    private const int Width = 720, Height = 400, Left = 60, Right = 20, Top = 40, Bottom = 90;

    public static string Svg(IReadOnlyList<ScoreAtKRow> rows, string title)
    {
        static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var finite = rows.SelectMany(r => new[] { r.Score, r.CiHigh }).Where(double.IsFinite).ToList();
        // The y axis reaches at least 1 (the reference solution) so charts of different runs compare at a glance.
        var yMax = Math.Max(1.0, finite.Count == 0 ? 1.0 : finite.Max()) * 1.1;
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Y(double v) => Top + plotH - Math.Max(0, v) / yMax * plotH;

        var svg = new StringBuilder();
        svg.AppendLine($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine($"""  <text x="{Width / 2}" y="20" text-anchor="middle" font-size="15">{SecurityElement.Escape(title)} (normalized; bars: mean over tasks, whiskers: 95% CI)</text>""");
        for (var i = 0; i <= 5; i++)
        {
            var v = yMax * i / 5;
            svg.AppendLine($"""  <line x1="{Left}" x2="{Width - Right}" y1="{F(Y(v))}" y2="{F(Y(v))}" stroke="#ddd"/>""");
            svg.AppendLine($"""  <text x="{Left - 6}" y="{F(Y(v) + 4)}" text-anchor="end">{v.ToString("0.00", CultureInfo.InvariantCulture)}</text>""");
        }
        svg.AppendLine($"""  <line x1="{Left}" x2="{Width - Right}" y1="{F(Y(1))}" y2="{F(Y(1))}" stroke="#888" stroke-dasharray="4 3"/>""");

        var slot = rows.Count == 0 ? plotW : plotW / rows.Count;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var x = Left + i * slot;
            var barW = slot * 0.6;
            var cx = x + slot / 2;
            if (double.IsFinite(r.Score))
                svg.AppendLine($"""  <rect x="{F(cx - barW / 2)}" y="{F(Y(r.Score))}" width="{F(barW)}" height="{F(Y(0) - Y(r.Score))}" fill="#4e79a7"><title>{SecurityElement.Escape(r.Agent)}: {F(r.Score)}</title></rect>""");
            if (double.IsFinite(r.CiLow) && double.IsFinite(r.CiHigh))
            {
                var cap = barW / 4;
                svg.AppendLine($"""  <path d="M{F(cx)} {F(Y(r.CiLow))} V{F(Y(r.CiHigh))} M{F(cx - cap)} {F(Y(r.CiLow))} H{F(cx + cap)} M{F(cx - cap)} {F(Y(r.CiHigh))} H{F(cx + cap)}" stroke="#222" stroke-width="1.5" fill="none"/>""");
            }
            var label = $"{r.Agent} @ {ReportCommands.Budget(r.AttemptBudget)} (k={r.K})";
            svg.AppendLine($"""  <text x="{F(cx)}" y="{Height - Bottom + 16}" text-anchor="end" transform="rotate(-30 {F(cx)} {Height - Bottom + 16})">{SecurityElement.Escape(label)}</text>""");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
