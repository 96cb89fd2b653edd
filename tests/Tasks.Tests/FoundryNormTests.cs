namespace ReBench.Tasks.Tests;

/// <summary>
/// The official LLM Foundry weight check (tasks/ai_rd_optimize_llm_foundry/scoring/score.py, per_tensor_l2_sum) on two
/// tiny models whose answer is known: upstream sums, over the parameter tensors, the L2 (Frobenius) norm of each
/// tensor's difference. transformers is not installed on the build machine, so the models are plain torch modules;
/// the AutoModel loading (load_base_model) is a separate thin step that only the GPU run exercises.
/// </summary>
public sealed class FoundryNormTests
{
    private static readonly string Scoring = BundleScorer.Variant("ai_rd_optimize_llm_foundry", "main").Folders.Scoring;

    private static string Python(string body)
    {
        var script = "import sys\nsys.path.insert(0, sys.argv[1])\nimport score, torch\n" + Models + "\n" + body;
        var run = Host.Run("/usr/bin/python3", "-c", script, Scoring);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return run.Stdout.Trim();
    }

    // Two copies of one tiny model; the second has known changes: the 3x2 weight moved by [[3, 4], [0, 0], [0, 0]]
    // (L2 5), the bias by [1, 1, 1] (L2 sqrt 3), the 2x2 weight by all ones (L2 2). The per-tensor L2 sum is
    // 7 + sqrt 3 = 8.732...; the element-wise L1 of the same change is 14, the L2 over all elements is sqrt 32.
    private const string Models = """
        torch.manual_seed(0)
        a = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2, bias=False))
        b = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2, bias=False))
        b.load_state_dict(a.state_dict())
        with torch.no_grad():
            b[0].weight[0] += torch.tensor([3.0, 4.0])
            b[0].bias += 1.0
            b[1].weight[:, :2] += 1.0
        """;

    [Fact]
    public void The_norm_is_the_sum_over_tensors_of_the_L2_norm_of_each_difference()
    {
        var value = double.Parse(Python("""
            print(score.per_tensor_l2_sum(dict(b.named_parameters()), dict(a.named_parameters())))
            """), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(7 + Math.Sqrt(3), value, 5); // float32 weights: the changes themselves carry float32 rounding
        Assert.NotEqual(14, value, 3);            // not the element-wise L1 norm (the old measure)
        Assert.NotEqual(Math.Sqrt(32), value, 3); // nor one L2 norm over all elements
    }

    [Fact]
    public void Identical_models_differ_by_zero_and_the_limit_is_upstreams()
    {
        var output = Python("""
            print(score.per_tensor_l2_sum(a.state_dict(), dict(a.named_parameters())), score.MAX_NORM_DIFF)
            """);

        Assert.Equal("0.0 5.3", output);
    }

    [Fact]
    public void Models_with_other_parameters_are_invalid_with_a_reason()
    {
        var output = Python("""
            c = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2))
            d = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Linear(4, 2, bias=False))
            for other in (c, d):
                try:
                    score.per_tensor_l2_sum(dict(other.named_parameters()), dict(a.named_parameters()))
                    print("accepted")
                except score.Invalid as e:
                    print(e)
            """);

        var lines = output.Split('\n');
        Assert.Contains("other parameters than the reference", lines[0]);
        Assert.Contains("unexpected ['1.bias']", lines[0]);
        Assert.Contains("parameter 0.bias has shape (4,), the reference's (3,)", lines[1]);
    }
}
