using System.Globalization;

namespace ReBench.Bench;

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

    public static void Print(List<double> act, List<double> baseline, List<double> exec, List<double> actUnchecked, (double RememberedUs, double NewUs) check)
    {
        string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        var (a50, a99, b50, b99) = (Percentile(act, 50), Percentile(act, 99), Percentile(baseline, 50), Percentile(baseline, 99));
        Console.WriteLine();
        Console.WriteLine("| measure (ms)                                   |   p50 |   p99 |");
        Console.WriteLine("|------------------------------------------------|-------|-------|");
        Console.WriteLine($"| Act `true` via gateway -> orchestrator -> sandbox | {F(a50),5} | {F(a99),5} |");
        Console.WriteLine($"| same Act, backends without the token check    | {F(Percentile(actUnchecked, 50)),5} | {F(Percentile(actUnchecked, 99)),5} |");
        Console.WriteLine($"| baseline: spawn `true` + 1 committed PG insert | {F(b50),5} | {F(b99),5} |");
        Console.WriteLine($"| (breakdown) sandbox Exec `true` over gRPC alone | {F(Percentile(exec, 50)),5} | {F(Percentile(exec, 99)),5} |");
        Console.WriteLine();
        Console.WriteLine($"ratio Act/baseline (p50): {F(a50 / b50)}x");
        Console.WriteLine($"platform overhead (p50 Act - p50 baseline): {F(a50 - b50)} ms");
        Console.WriteLine($"platform overhead (p99 Act - p99 baseline): {F(a99 - b99)} ms");
        Console.WriteLine($"service token check (Act p50 with - without): {F(a50 - Percentile(actUnchecked, 50))} ms; p99: {F(a99 - Percentile(actUnchecked, 99))} ms");
        Console.WriteLine($"token check alone: {F(check.RememberedUs)} us per call on a remembered token, {F(check.NewUs)} us on a new one (signature checked)");
    }
}
