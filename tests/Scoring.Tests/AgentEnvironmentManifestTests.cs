using Grpc.Core;
using Microsoft.Extensions.Configuration;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.Grpc;
using ReBench.Scoring.Submissions;

namespace ReBench.Scoring.Tests;

/// <summary>
/// Manifest agent_environment_variables / agent_environment_file (tasks/README.md, "The agent's environment"): which
/// of a variant's required variables its agent gets too, and the home file holding them. Names only in descriptors.
/// </summary>
public sealed class AgentEnvironmentManifestTests : TempTasksTests
{
    private static string With(string fields) =>
        TempTasks.ValidManifest.Replace("scoring:\n", fields + "scoring:\n");

    [Fact]
    public void Without_the_field_the_agent_gets_no_task_variable()
    {
        Temp.WriteBundle("plain_task", With("required_environment_variables: [JUDGE_KEY]\n"));

        var bundle = TaskCatalog.Load(Temp.Root).Bundles.Single();
        var variant = bundle.Variants.Single();

        Assert.Equal(["JUDGE_KEY"], variant.RequiredEnvironmentVariables);
        Assert.Empty(variant.AgentEnvironmentVariables);
        Assert.Null(variant.AgentEnvironmentFile);
        Assert.Empty(TaskDescriptors.ToProto(variant, bundle).AgentEnvironmentVariables);
    }

    [Fact]
    public void Listed_names_and_the_file_reach_the_descriptor_and_a_variant_override_replaces_them()
    {
        var manifest = With("required_environment_variables: [JUDGE_URL, JUDGE_KEY, SCORER_ONLY]\n" +
                            "agent_environment_variables: [JUDGE_URL, JUDGE_KEY]\nagent_environment_file: api.env\n")
            .Replace("  - name: cpu\n    instructions: instructions.md\n",
                "  - name: cpu\n    instructions: instructions.md\n" +
                "  - name: narrow\n    instructions: instructions.md\n    overrides:\n" +
                "      agent_environment_variables: [JUDGE_URL]\n");
        Temp.WriteBundle("judged_task", manifest);

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Problems);
        var bundle = catalog.Bundles.Single();
        var cpu = bundle.Variants.Single(v => v.Name == "cpu");
        Assert.Equal(["JUDGE_URL", "JUDGE_KEY"], cpu.AgentEnvironmentVariables);
        var descriptor = TaskDescriptors.ToProto(cpu, bundle);
        Assert.Equal(["JUDGE_URL", "JUDGE_KEY"], descriptor.AgentEnvironmentVariables);
        Assert.Equal("api.env", descriptor.AgentEnvironmentFile);
        Assert.Equal(["JUDGE_URL"], bundle.Variants.Single(v => v.Name == "narrow").AgentEnvironmentVariables);
    }

    [Theory]
    [InlineData("agent_environment_variables: [NOT_REQUIRED]\n", "agent_environment_variables (variants[cpu])", "not one of the variant's required_environment_variables")]
    [InlineData("agent_environment_variables: [JUDGE_KEY, JUDGE_KEY]\n", "agent_environment_variables (variants[cpu])", "listed twice")]
    [InlineData("agent_environment_variables: ['BAD-NAME']\n", "agent_environment_variables (variants[cpu])", "not a valid environment variable name")]
    [InlineData("agent_environment_variables: [JUDGE_KEY]\nagent_environment_file: ../api.env\n", "agent_environment_file (variants[cpu])", "plain file name")]
    [InlineData("agent_environment_variables: [JUDGE_KEY]\nagent_environment_file: .ssh/api.env\n", "agent_environment_file (variants[cpu])", "plain file name")]
    [InlineData("agent_environment_file: api.env\n", "agent_environment_file (variants[cpu])", "needs agent_environment_variables")]
    public void A_bad_entry_refuses_the_bundle_naming_the_field(string fields, string field, string expected)
    {
        Temp.WriteBundle("bad_task", With("required_environment_variables: [JUDGE_KEY]\n" + fields));
        Temp.WriteBundle("good_task", With("required_environment_variables: [JUDGE_KEY]\nagent_environment_variables: [JUDGE_KEY]\n"));

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Equal(["good_task"], catalog.Bundles.Select(b => b.Id));
        var problem = Assert.Single(catalog.Problems);
        Assert.Contains(field, problem.Message);
        Assert.Contains(expected, problem.Message);
    }

    [Fact]
    public void A_value_the_operator_did_not_configure_is_a_failed_precondition_naming_it_and_never_a_value()
    {
        Temp.WriteBundle("judged_task", With("required_environment_variables: [JUDGE_URL, JUDGE_KEY]\nagent_environment_variables: [JUDGE_URL, JUDGE_KEY]\n"));
        var variant = TaskCatalog.Load(Temp.Root).Bundles.Single().Variants.Single();
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TaskEnvironment:JUDGE_URL"] = "http://127.0.0.1:1/v1-secret-url",
            ["TaskEnvironment:JUDGE_KEY"] = "",
        }).Build();

        var e = Assert.Throws<RpcException>(() => new AgentEnvironment(null!, configured).Values(variant));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("JUDGE_KEY", e.Status.Detail);
        Assert.Contains("TaskEnvironment:JUDGE_KEY", e.Status.Detail);
        Assert.DoesNotContain("TaskEnvironment:JUDGE_URL", e.Status.Detail);
        Assert.DoesNotContain("secret-url", e.Status.Detail);
        // Control: with both configured the values come back, the agent's variables only.
        configured["TaskEnvironment:JUDGE_KEY"] = "k-123";
        configured["TaskEnvironment:OTHER"] = "not the agent's";
        Assert.Equal(new Dictionary<string, string> { ["JUDGE_URL"] = "http://127.0.0.1:1/v1-secret-url", ["JUDGE_KEY"] = "k-123" },
            new AgentEnvironment(null!, configured).Values(variant));
    }

    /// <summary>The official variants as tasks/README.md's "The agent's environment" table records them.</summary>
    [Fact]
    public void The_official_variants_give_the_agent_upstreams_credentials_and_no_other_variant_gives_any()
    {
        var catalog = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));
        foreach (var bundle in catalog.Bundles)
            foreach (var variant in bundle.Variants)
            {
                var (names, file) = (bundle.Id, variant.Name) switch
                {
                    ("ai_rd_nanogpt_chat_rl", "main" or "hidden_score") => (new[] { "JUDGE_BASE_URL", "JUDGE_API_KEY", "JUDGE_MODEL" }, null),
                    ("ai_rd_rust_codecontests_inference", "main" or "hidden_score") => (["AI_RD_RUST_CODECONTESTS_INFERENCE_OPENAI_API_KEY"], "api.env"),
                    _ => (Array.Empty<string>(), (string?)null),
                };
                Assert.True(names.SequenceEqual(variant.AgentEnvironmentVariables), $"{bundle.Id}/{variant.Name}: {string.Join(",", variant.AgentEnvironmentVariables)}");
                Assert.Equal(file, variant.AgentEnvironmentFile);
            }
    }
}
