using ReBench.Scoring.Submissions;

namespace ReBench.Scoring.Tests;

/// <summary>
/// The tamper check's shadow rule against the task's own starting files: optimize_llm_foundry/cpu ships
/// solution/scripts/model.py, which its instructions let the agent change ("You may change anything in solution/"),
/// and its scorer holds a reference copy of that name (reference_train/scripts/model.py). The agent's changed copy is
/// its work, not a copy a scorer could be pointed at: it must not void an honest score. A new file of that name
/// elsewhere in the home still is a shadow (control).
/// </summary>
public sealed class TamperCheckOwnFilesTests
{
    private static TaskVariant Variant(string task, string variant)
    {
        var (bundle, problems) = BundleLoader.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks", task));
        Assert.True(bundle is not null, string.Join("; ", problems));
        return bundle.Variants.Single(v => v.Name == variant);
    }

    [Fact]
    public void The_agents_changed_copy_of_a_starting_file_is_not_a_shadow_but_a_new_file_of_that_name_is()
    {
        var variant = Variant("ai_rd_optimize_llm_foundry", "cpu");
        var check = new TamperCheck();
        Assert.Contains("model.py", check.ScriptEnv(variant)["REBENCH_CHECK_MODULES"].Split('\n')); // control: a scorer module of that name
        Assert.True(File.Exists(Path.Combine(variant.Folders.Agent, "solution", "scripts", "model.py"))); // control: shipped to the agent
        var changed = new string('a', 64);
        var snapshot = new EnvironmentSnapshot(
            new Dictionary<string, string>(), new Dictionary<string, string>(),
            new Dictionary<string, string> { ["solution/scripts/model.py"] = changed, ["notes/model.py"] = changed }, null);

        var shadows = check.Compare(variant, snapshot, "before").Where(f => f.Kind == TamperKinds.ShadowModule).ToList();

        Assert.DoesNotContain(shadows, f => f.Path == "solution/scripts/model.py");
        Assert.Contains(shadows, f => f.Path == "notes/model.py");
    }
}
