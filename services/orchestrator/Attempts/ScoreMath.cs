namespace ReBench.Orchestrator.Attempts;

internal static class ScoreMath
{
    /// <summary>NaN and infinities have no JSON form; the stored events carry null for them.</summary>
    public static double? ToStored(double value) => double.IsFinite(value) ? value : null;

    public static double FromStored(double? value) => value ?? double.NaN;
}
