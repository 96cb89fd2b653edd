using System.Globalization;

namespace ReBench.Bench;

/// <summary>One Act measured on one path of the run, with its label for the table.</summary>
internal sealed record ActSeries(string Label, List<double> Millis);

internal static class Report
{
    public static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = p / 100 * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /// <param name="acts">The Act with every check first, then the same Act with checks taken away; the last has none.</param>
    public static void Print(IReadOnlyList<ActSeries> acts, List<double> baseline, List<double> exec,
        (double RememberedUs, double NewUs) tokenCheck, double sessionCheckUs)
    {
        string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        var act = acts[0].Millis;
        var (a50, a99, b50, b99) = (Percentile(act, 50), Percentile(act, 99), Percentile(baseline, 50), Percentile(baseline, 99));
        Console.WriteLine();
        Console.WriteLine("| measure (ms)                                                |   p50 |   p99 |");
        Console.WriteLine("|-------------------------------------------------------------|-------|-------|");
        foreach (var series in acts)
            Console.WriteLine($"| {series.Label,-59} | {F(Percentile(series.Millis, 50)),5} | {F(Percentile(series.Millis, 99)),5} |");
        Console.WriteLine($"| {"baseline: spawn `true` + 1 committed PG insert",-59} | {F(b50),5} | {F(b99),5} |");
        Console.WriteLine($"| {"(breakdown) sandbox Exec `true` over gRPC alone",-59} | {F(Percentile(exec, 50)),5} | {F(Percentile(exec, 99)),5} |");
        Console.WriteLine();
        Console.WriteLine($"ratio Act/baseline (p50): {F(a50 / b50)}x");
        Console.WriteLine($"platform overhead (p50 Act - p50 baseline): {F(a50 - b50)} ms");
        Console.WriteLine($"platform overhead (p99 Act - p99 baseline): {F(a99 - b99)} ms");
        foreach (var series in acts.Skip(1))
        {
            // Paired per iteration (the Acts run back to back), so the machine's drift cancels out of the median.
            var paired = act.Zip(series.Millis, (c, u) => c - u).ToList();
            Console.WriteLine($"all checks vs {series.Label}: p50 {F(a50 - Percentile(series.Millis, 50))} ms, p99 {F(a99 - Percentile(series.Millis, 99))} ms, " +
                              $"median of paired differences {F(Percentile(paired, 50))} ms");
        }
        Console.WriteLine($"service token check alone: {F(tokenCheck.RememberedUs)} us per call on a remembered token, {F(tokenCheck.NewUs)} us on a new one (signature checked)");
        Console.WriteLine($"session-credential check alone (hash, compare, phase): {F(sessionCheckUs)} us per call");
    }
}
