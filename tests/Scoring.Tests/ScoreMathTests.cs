namespace ReBench.Scoring.Tests;

public sealed class ScoreMathTests
{
    [Theory]
    [InlineData(5.0, 5.0, 1.0, 0.0)]      // lower is better: start -> 0
    [InlineData(1.0, 5.0, 1.0, 1.0)]      // reference -> 1
    [InlineData(3.0, 5.0, 1.0, 0.5)]
    [InlineData(0.0, 5.0, 1.0, 1.25)]     // better than the reference: no upper clip
    [InlineData(7.0, 5.0, 1.0, 0.0)]      // worse than start: clipped at 0
    [InlineData(0.54, 0.54, 0.85, 0.0)]   // higher is better
    [InlineData(0.85, 0.54, 0.85, 1.0)]
    [InlineData(0.70, 0.5, 0.9, 0.5)]
    [InlineData(0.95, 0.5, 0.9, 1.125)]
    [InlineData(0.3, 0.5, 0.9, 0.0)]
    public void Normalize_maps_start_to_0_and_reference_to_1_and_clips_below(double raw, double start, double reference, double expected)
    {
        Assert.Equal(expected, ScoreMath.Normalize(raw, start, reference), 12);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Normalize_of_no_score_is_NaN(double raw) => Assert.True(double.IsNaN(ScoreMath.Normalize(raw, 5, 1)));

    [Fact]
    public void Normalize_uses_the_spec_constants_of_the_gpu_kernel_task()
    {
        // rebench-spec 1.1: start ln 4.728 ms, reference ln 1.6 ms; the best agent's 0.64 ms.
        var n = ScoreMath.Normalize(Math.Log(0.64), 1.5535302804958044, 0.4700036292457356);
        Assert.Equal((Math.Log(0.64) - 1.5535302804958044) / (0.4700036292457356 - 1.5535302804958044), n, 12);
        Assert.True(n > 1.8 && n < 1.9, $"normalized {n}");
    }

    [Theory]
    [InlineData(AggregationRule.Min, 1.5)]
    [InlineData(AggregationRule.Max, 4.0)]
    [InlineData(AggregationRule.Last, 2.0)]
    public void Aggregate_applies_the_rule_to_finite_scores_only(AggregationRule rule, double expected)
    {
        double[] scores = [3.0, double.NaN, 1.5, double.NegativeInfinity, 4.0, 2.0, double.NaN, double.PositiveInfinity];
        Assert.Equal(expected, ScoreMath.Aggregate(scores, rule));
    }

    [Theory]
    [InlineData(AggregationRule.Min)]
    [InlineData(AggregationRule.Max)]
    [InlineData(AggregationRule.Last)]
    public void Aggregate_without_a_valid_score_is_NaN(AggregationRule rule)
    {
        Assert.True(double.IsNaN(ScoreMath.Aggregate([double.NaN, double.NaN], rule)));
        Assert.True(double.IsNaN(ScoreMath.Aggregate([], rule)));
    }

    [Fact]
    public void Final_of_no_valid_score_is_invalid_with_normalized_0()
    {
        var final = ScoreMath.Final([double.NaN], AggregationRule.Min, 5, 1);
        Assert.False(final.Valid);
        Assert.True(double.IsNaN(final.Raw));
        Assert.Equal(0, final.Normalized);
    }

    [Fact]
    public void Final_normalizes_the_aggregate()
    {
        var final = ScoreMath.Final([4.0, double.NaN, 3.0, 4.5], AggregationRule.Min, 5, 1);
        Assert.True(final.Valid);
        Assert.Equal(3.0, final.Raw);
        Assert.Equal(0.5, final.Normalized, 12);
    }
}
