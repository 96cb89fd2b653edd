using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Tests;

public sealed class ProvenanceDiffTests
{
    private static Provenance Base() => new()
    {
        TaskId = "t", Variant = "cpu", BundleDigest = "b1", ScorerDigest = "s1", Agent = "modular", AgentVersion = "1.0",
        Model = "openai/gpt", PlatformVersion = "p1", SandboxDriver = "local", Node = "n1", GpuModel = "none", GpuDriverVersion = "none",
        TimeBudgetSeconds = 600, GenerationSettings = { ["temperature"] = "0.2" },
    };

    [Fact]
    public void Identical_provenance_has_no_differences() =>
        Assert.All(ProvenanceCommand.Compare(ProvenanceCommand.Fields(Base()), ProvenanceCommand.Fields(Base())), r => Assert.True(r.Same));

    [Fact]
    public void Differing_fields_and_settings_are_named()
    {
        var b = Base();
        b.GpuModel = "H100"; b.GpuCount = 1; b.GenerationSettings["temperature"] = "0.7"; b.GenerationSettings["max_tokens"] = "100";
        var differing = ProvenanceCommand.Compare(ProvenanceCommand.Fields(Base()), ProvenanceCommand.Fields(b)).Where(r => !r.Same).ToList();
        Assert.Equal(["gpu_model", "gpu_count", "setting.temperature", "setting.max_tokens"], differing.Select(r => r.Field));
        Assert.Equal("(absent)", differing.Single(r => r.Field == "setting.max_tokens").A);
    }

    [Fact]
    public void Node_is_informational() => Assert.Contains("node", ProvenanceCommand.Informational);
}
