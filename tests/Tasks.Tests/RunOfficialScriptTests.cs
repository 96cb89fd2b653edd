using System.Text.RegularExpressions;

namespace ReBench.Tasks.Tests;

/// <summary>
/// scripts/run-official.sh (issue 23): on a machine without GPUs it must say so and exit non-zero before starting
/// anything; the control, a stand-in nvidia-smi listing two H100s, shows the check passes when GPUs are there and the
/// plan skips the tasks that need more. REBENCH_NVIDIA_SMI points the script at the stand-ins, so the test does not
/// depend on this machine's GPUs. The script's table of GPUs per task must equal the manifests.
/// </summary>
public sealed class RunOfficialScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(TestEnv.RepoRoot, "scripts", "run-official.sh");
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-run-official-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Smi(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        Host.MustRun("/bin/chmod", "0700", path);
        return path;
    }

    private static HostResult Run(string smi, params string[] args) =>
        Host.Run("/usr/bin/env", [$"REBENCH_NVIDIA_SMI={smi}", "/bin/bash", Script, .. args]);

    [Fact]
    public void Without_a_GPU_it_says_so_and_exits_non_zero_before_starting_anything()
    {
        var missing = Run(Path.Combine(_dir, "no-such-nvidia-smi"), "--assets", _dir);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no NVIDIA GPU on this machine", missing.Stderr);
        Assert.Contains("not found", missing.Stderr);
        Assert.DoesNotContain("starting the platform", missing.Stdout);

        // A driver that lists no GPU (or fails) is the same answer.
        var none = Run(Smi("none", "echo 'No devices were found'; exit 6"), "--assets", _dir);
        Assert.Equal(3, none.ExitCode);
        Assert.Contains("lists none", none.Stderr);
        Assert.DoesNotContain("starting the platform", none.Stdout);
    }

    [Fact]
    public void With_GPUs_it_plans_the_official_variants_and_skips_those_that_need_more()
    {
        var two = Smi("two", "echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)'; echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-b)'");

        var all = Run(two, "--dry-run");
        Assert.True(all.ExitCode == 1, all.Stdout + all.Stderr); // two tasks cannot run on 2 GPUs
        Assert.Contains("2 GPU(s)", all.Stdout);
        Assert.Contains("skipped: ai_rd_optimize_llm_foundry:main (needs 4 GPUs, this machine has 2)", all.Stdout);
        Assert.Contains("skipped: ai_rd_small_scaling_law:main (needs 6 GPUs", all.Stdout);
        Assert.Contains("to run:  ai_rd_triton_cumsum:main x noop (starting solution), reference", all.Stdout);
        Assert.Contains("dry run: nothing started", all.Stdout);

        var some = Run(two, "--dry-run", "--task", "ai_rd_triton_cumsum", "--task", "ai_rd_restricted_mlm");
        Assert.True(some.ExitCode == 0, some.Stdout + some.Stderr);
        Assert.Equal(2, Regex.Count(some.Stdout, "to run: "));

        var unknown = Run(two, "--dry-run", "--task", "no_such_task");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown task no_such_task", unknown.Stderr);
    }

    [Fact]
    public void The_scripts_GPU_table_matches_the_manifests()
    {
        var rows = Regex.Matches(File.ReadAllText(Script), "^  \"(ai_rd_[a-z_]+) ([0-9]+)\"$", RegexOptions.Multiline);
        Assert.Equal(7, rows.Count);
        foreach (Match row in rows)
            Assert.Equal(int.Parse(row.Groups[2].Value), BundleScorer.Variant(row.Groups[1].Value, "main").Resources.GpuCountMin);
    }
}
