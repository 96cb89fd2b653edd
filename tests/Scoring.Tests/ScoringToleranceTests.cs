using ReBench.Scoring.Grpc;

namespace ReBench.Scoring.Tests;

/// <summary>The optional manifest field scoring.tolerance (re-execution: how far a final score may move and still reproduce).</summary>
public sealed class ScoringToleranceTests : TempTasksTests
{
    private static string With(string scoringLine) =>
        ManifestWithScoring(scoringLine);

    [Fact]
    public void Undeclared_is_null_and_zero_on_the_wire()
    {
        Temp.WriteBundle("plain");
        var catalog = TaskCatalog.Load(Temp.Root);
        var variant = catalog.Resolve("plain", "");
        Assert.Null(variant.Scoring.Tolerance);
        Assert.Equal(0, TaskDescriptors.ToProto(variant, catalog.Bundle("plain")).ScoreTolerance);
    }

    [Fact]
    public void A_declared_tolerance_reaches_the_task_descriptor_and_a_variant_may_override_it()
    {
        Temp.WriteBundle("declared", With("  tolerance: 0.1\n").Replace("    instructions: instructions.md\n",
            "    instructions: instructions.md\n    overrides:\n      scoring:\n        tolerance: 0.2\n"));
        var catalog = TaskCatalog.Load(Temp.Root);
        Assert.Empty(catalog.Problems);
        var variant = catalog.Resolve("declared", "cpu");
        Assert.Equal(0.2, variant.Scoring.Tolerance);
        Assert.Equal(0.2, TaskDescriptors.ToProto(variant, catalog.Bundle("declared")).ScoreTolerance);
    }

    [Theory]
    [InlineData("-0.1")]
    [InlineData("0")]
    [InlineData(".nan")]
    public void A_tolerance_that_is_not_a_positive_number_is_refused_naming_the_field(string value)
    {
        Temp.WriteBundle("bad", With($"  tolerance: {value}\n"));
        var catalog = TaskCatalog.Load(Temp.Root);
        Assert.Contains(catalog.Problems, p => p.Message.Contains("scoring.tolerance (variant cpu)"));
    }
}
