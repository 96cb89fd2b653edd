using ReBench.Scoring.Grpc;

namespace ReBench.Scoring.Tests;

/// <summary>
/// Manifest scoring.agent_readable: which protected files the agent may read and run (never write). Default none; each
/// entry must name a file or folder of the variant's scoring/ folder or an asset of it into the protected area.
/// </summary>
public sealed class AgentReadableCatalogTests : TempTasksTests
{
    private static string WithReadable(string list) =>
        ManifestWithScoring($"  agent_readable: {list}\n");

    [Fact]
    public void Without_the_field_nothing_is_readable()
    {
        Temp.WriteBundle("plain_task");

        var variant = TaskCatalog.Load(Temp.Root).Bundles.Single().Variants.Single();

        Assert.Empty(variant.Scoring.AgentReadable);
        Assert.Empty(TaskDescriptors.ToProto(variant, TaskCatalog.Load(Temp.Root).Bundles.Single()).AgentReadableFiles);
    }

    [Fact]
    public void Files_folders_and_protected_assets_are_accepted_and_reach_the_descriptor()
    {
        var dir = Temp.WriteBundle("open_task", WithReadable("[score.py, helpers/, data/val.bin]"));
        TempTasks.Write(dir, "scoring/helpers/util.py", "X = 1\n");
        TempTasks.Write(dir, "variants/cpu/assets.yaml",
            "format: 1\nassets:\n  - path: data/val.bin\n    into: protected\n    size_bytes: 1\n    sha256: OPERATOR_SUPPLIED\n");

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Problems);
        var bundle = catalog.Bundles.Single();
        var variant = bundle.Variants.Single();
        Assert.Equal(["score.py", "helpers", "data/val.bin"], variant.Scoring.AgentReadable);
        Assert.Equal(["score.py", "helpers", "data/val.bin"], TaskDescriptors.ToProto(variant, bundle).AgentReadableFiles);
    }

    [Theory]
    [InlineData("[../secret]", "plain relative path")]
    [InlineData("[/etc/passwd]", "plain relative path")]
    [InlineData("[score.log]", "the platform's own score.log")]
    [InlineData("[.rebench/prepared]", "the platform's own .rebench")]
    [InlineData("[missing.py]", "neither a file or folder")]
    // An asset into the home is not in the protected area: naming it here is a mistake, not a permission.
    [InlineData("[data/train.bin]", "neither a file or folder")]
    public void A_bad_entry_refuses_the_bundle_naming_the_field(string list, string expected)
    {
        var dir = Temp.WriteBundle("bad_task", WithReadable(list));
        TempTasks.Write(dir, "variants/cpu/assets.yaml",
            "format: 1\nassets:\n  - path: data/train.bin\n    into: home\n    size_bytes: 1\n    sha256: OPERATOR_SUPPLIED\n");
        Temp.WriteBundle("good_task", WithReadable("[score.py]"));

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Equal(["good_task"], catalog.Bundles.Select(b => b.Id));
        var problem = Assert.Single(catalog.Problems);
        Assert.Contains("scoring.agent_readable (variant cpu)", problem.Message);
        Assert.Contains(expected, problem.Message);
    }

    /// <summary>
    /// The official variants as tasks/README.md ("What the agent may read", "Network") records them: upstream's
    /// network (full_internet for every family) and its split between readable scorer code and hidden data.
    /// </summary>
    [Fact]
    public void The_official_variants_get_upstreams_network_and_readable_files()
    {
        var catalog = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));
        var expected = new Dictionary<string, string[]>
        {
            ["ai_rd_fix_embedding"] = ["score.py", "scorer_result.py", "agent_files.py", "static_model.py", "large_model.pth", "val.bin"],
            ["ai_rd_nanogpt_chat_rl"] = ["score.py", "evaluation.py"],
            ["ai_rd_optimize_llm_foundry"] = ["score.py", "scorer_result.py", "agent_files.py"],
            ["ai_rd_restricted_mlm"] = ["score.py", "scorer_result.py", "torch_rule_enforcer.py", "judged_process.py", "cuda_ipc.py", "data/val.bin"],
            ["ai_rd_rust_codecontests_inference"] = ["score.py", "harness.py"],
            ["ai_rd_small_scaling_law"] = [],
            ["ai_rd_triton_cumsum"] = ["score.py", "scorer_result.py", "worker.py", "judged_process.py", "prefix_sum_expected.py", "cuda_ipc.py"],
        };
        Assert.Equal(expected.Keys.Order(), catalog.Bundles.Select(b => b.Id).Order());
        foreach (var bundle in catalog.Bundles)
        {
            var main = bundle.Variants.Single(v => v.Name == "main");
            Assert.Equal(expected[bundle.Id], main.Scoring.AgentReadable);
            // Held-out data upstream hides, never: LLM Foundry's held-out runs, nanoGPT's HELDOUT_DATA, Rust's test split.
            Assert.DoesNotContain(main.Scoring.AgentReadable, p => p.StartsWith("heldout", StringComparison.Ordinal)
                || p.StartsWith("HELDOUT", StringComparison.Ordinal) || p == "data/test.jsonl");
            foreach (var variant in bundle.Variants)
            {
                // Upstream's variants (main, hidden_score) have full internet; the CPU ports run offline.
                Assert.True(variant.Network == (variant.Name != "cpu"), $"{bundle.Id}/{variant.Name}: network {variant.Network}");
            }
            // The hidden-score twin of an official variant lets the agent read what main does.
            if (bundle.Variants.FirstOrDefault(v => v.Name == "hidden_score") is { } hidden)
                Assert.Equal(main.Scoring.AgentReadable, hidden.Scoring.AgentReadable);
        }
    }
}
