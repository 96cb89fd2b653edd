namespace ReBench.Tasks.Tests;

/// <summary>
/// Issue 14: the agent writes the home, and Python runs what it finds in the user site-packages there (.pth files,
/// shadowing packages) at start-up, before the scorer's first line; these bundles' scorers run Python with -s.
/// IsolatedScalingLawTests shows the attack refused inside the sandbox.
/// </summary>
public sealed class ScorerCommandTests
{
    [Theory]
    [InlineData("ai_rd_triton_cumsum", "cpu")]
    [InlineData("ai_rd_triton_cumsum", "main")]
    [InlineData("ai_rd_restricted_mlm", "cpu")]
    [InlineData("ai_rd_restricted_mlm", "main")]
    [InlineData("ai_rd_restricted_mlm", "hidden_score")]
    [InlineData("ai_rd_small_scaling_law", "cpu")]
    [InlineData("ai_rd_small_scaling_law", "main")]
    [InlineData("ai_rd_nanogpt_chat_rl", "main")]
    [InlineData("ai_rd_nanogpt_chat_rl", "hidden_score")]
    [InlineData("ai_rd_rust_codecontests_inference", "main")]
    [InlineData("ai_rd_rust_codecontests_inference", "hidden_score")]
    public void The_scorer_runs_python_without_the_user_site_packages(string task, string variant) =>
        Assert.Equal("/usr/bin/python3 -s \"$REBENCH_PROTECTED/score.py\"", BundleScorer.Variant(task, variant).Scoring.Command);
}
