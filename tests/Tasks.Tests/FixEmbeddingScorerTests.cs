using ReBench.Scoring.Scores;

namespace ReBench.Tasks.Tests;

/// <summary>The bundles with built cpu assets (LLM Foundry, fix_embedding, restricted_mlm) load through the real catalog with the variants and upstream constants they promise.</summary>
public sealed class BundlesWithBuiltAssetsLoadTests
{
    public static TheoryData<string> Tasks => new() { "ai_rd_optimize_llm_foundry", "ai_rd_fix_embedding", "ai_rd_restricted_mlm" };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void The_bundle_loads_without_problems_with_an_official_and_a_cpu_variant(string taskId)
    {
        var problems = BundleScorer.Catalog.Problems.Where(p => p.Message.StartsWith(taskId + "/", StringComparison.Ordinal));
        Assert.Empty(problems.Select(p => p.Message));
        var bundle = BundleScorer.Catalog.Bundle(taskId);
        Assert.Contains("main", bundle.VariantNames);
        Assert.Equal("cpu", bundle.DefaultVariant);
        foreach (var file in new[] { "measure_constants.sh", "variants/main/assets.yaml", "variants/cpu/assets.yaml", "README.md", "build_cpu_assets.py" })
            Assert.True(File.Exists(Path.Combine(bundle.Directory, file)), $"{taskId} lacks {file}");
        var main = BundleScorer.Variant(taskId, "main");
        var cpu = BundleScorer.Variant(taskId, "cpu");
        Assert.NotEqual(main.ScorerDigest, cpu.ScorerDigest);
        Assert.Equal(("h100", 0, 0), (main.Resources.GpuModel, cpu.Resources.GpuCountMin, cpu.Resources.GpuCountMax));
        Assert.Equal(AggregationRule.Min, cpu.Scoring.Aggregation);
        Assert.Equal(ScoreDirection.Lower, cpu.Scoring.Direction);
        Assert.Contains("measure_constants.sh", cpu.Scoring.MeasuredBy);
    }

    [Fact]
    public void The_official_variants_carry_the_spec_constants()
    {
        var foundry = BundleScorer.Variant("ai_rd_optimize_llm_foundry", "main");
        Assert.Equal((5.605802066295998, 4.543294782270004, 4), (foundry.Scoring.Start, foundry.Scoring.Reference, foundry.Resources.GpuCountMax));
        Assert.Contains("5.3", foundry.Scoring.RawScore);
        var fix = BundleScorer.Variant("ai_rd_fix_embedding", "main");
        Assert.Equal((2.196224077002636, 0.2623642644674909, 1, 180), (fix.Scoring.Start, fix.Scoring.Reference, fix.Resources.GpuCountMax, fix.Scoring.TimeoutSeconds));
        var mlm = BundleScorer.Variant("ai_rd_restricted_mlm", "main");
        Assert.Equal((1.8141730640649552, 1.1314021114911004, 2), (mlm.Scoring.Start, mlm.Scoring.Reference, mlm.Resources.GpuCountMax));
        foreach (var task in new[] { "ai_rd_fix_embedding", "ai_rd_restricted_mlm" })
        {
            Assert.True(BundleScorer.Variant(task, "main").Scoring.ScoreVisible);
            Assert.False(BundleScorer.Variant(task, "hidden_score").Scoring.ScoreVisible);
            Assert.Equal(BundleScorer.Variant(task, "main").Scoring.Start, BundleScorer.Variant(task, "hidden_score").Scoring.Start);
        }
    }

    [Fact]
    public void An_invalid_run_does_not_change_the_aggregate()
    {
        var fix = BundleScorer.Variant("ai_rd_fix_embedding").Scoring;
        var withInvalid = ScoreMath.Final([fix.Start, double.NaN, fix.Reference, double.NaN], fix.Aggregation, fix.Start, fix.Reference);
        var without = ScoreMath.Final([fix.Start, fix.Reference], fix.Aggregation, fix.Start, fix.Reference);
        Assert.Equal(without, withInvalid);
        Assert.Equal(1.0, withInvalid.Normalized, 9);
    }
}

/// <summary>Fix Embedding, cpu variant, through its real scorer (a few seconds per run).</summary>
public sealed class FixEmbeddingCpuScorerTests() : BundleScorerTests("ai_rd_fix_embedding")
{
    [Fact]
    public async Task Start_normalizes_to_zero_and_the_reference_to_one()
    {
        var (start, reference) = await StartAndReferenceAsync();

        Assert.True(start.Outcome.Valid, start.ToString());
        Assert.InRange(start.Outcome.Normalized, 0, 0.15);
        Assert.Contains("large_model.pth", start.Message["note"]!.GetValue<string>());
        Assert.True(reference.Outcome.Valid, reference.ToString());
        Assert.True(reference.Outcome.Normalized >= 0.85, reference.ToString());
        Assert.True(reference.Message["loss"]!.GetValue<double>() < 1.6, reference.ToString());
    }

    [Fact]
    public async Task A_model_with_another_architecture_is_invalid_and_the_message_says_why()
    {
        var run = await Scorer.ScoreAsync(Task, prepare: home =>
            File.Copy(Path.Combine(home, "small_correct_model.pth"), Path.Combine(home, "fixed_model.pth")));

        Assert.False(run.Outcome.Valid);
        Assert.True(double.IsNaN(run.Outcome.Raw));
        Assert.Equal(InvalidReasons.InvalidSubmission, run.Outcome.InvalidReason);
        Assert.Contains("architecture differs", run.Error);
        Assert.Contains("n_layer", run.Error);
    }

    [Fact]
    public async Task Untying_the_embedding_from_the_output_head_is_an_architecture_change()
    {
        // A tempting shortcut: keep the permuted output head and fix only the input side (or the other way round).
        var run = await Scorer.ScoreAsync(Task, reference: true, prepare: home => Python(home, """
            import sys, torch
            sys.path.insert(0, "solution")
            import model as gpt
            m = gpt.load("fixed_model.pth")
            state = m.state_dict()
            state["lm_head.weight"] = state["lm_head.weight"].clone() * 1.01
            torch.save({"config": m.config, "model": state}, "fixed_model.pth")
            """));

        Assert.False(run.Outcome.Valid, run.ToString());
        Assert.Contains("tied", run.Error);
    }

    [Fact]
    public async Task A_file_that_is_not_a_checkpoint_is_invalid()
    {
        var run = await Scorer.ScoreAsync(Task, prepare: home => File.WriteAllText(Path.Combine(home, "fixed_model.pth"), "not a model"));

        Assert.False(run.Outcome.Valid, run.ToString());
        Assert.Equal(InvalidReasons.InvalidSubmission, run.Outcome.InvalidReason);
        Assert.Contains("torch.load", run.Error);
    }

    internal static void Python(string home, string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = home, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script.Replace("\r", ""));
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
    }
}

/// <summary>
/// Fix Embedding, official scorer (scoring/score.py): its checkpoint loader, on CPU with a tiny nanoGPT-layout
/// checkpoint (the GPU part of the scorer cannot run here). Upstream unpickles checkpoints in full; this loader accepts
/// what a nanoGPT checkpoint and the protected large_model.pth hold and refuses any other global before it runs.
/// </summary>
public sealed class FixEmbeddingMainLoaderTests
{
    [Fact]
    public async Task Pickled_nanogpt_checkpoints_load_and_a_pickle_naming_another_callable_is_refused_before_it_runs()
    {
        var scoring = BundleScorer.Variant("ai_rd_fix_embedding", "main").Folders.Scoring; // as laid out, shared files included
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script.Replace("\r", ""));
        start.ArgumentList.Add(scoring);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, stdout + await stderr);
        foreach (var check in new[]
                 {
                     "a nanoGPT checkpoint (pickle, zip format) loads", "numpy scalar) load, legacy format too",
                     "names numpy.dtype", "names posix.system", "protocol 4 (STACK_GLOBAL)",
                     "control: a plain unpickle of the same file ran the command", "another config is refused",
                     "all loader checks passed",
                 })
            Assert.Contains(check, stdout);
    }

    private const string Script = """"
        import importlib.util, os, pickle, sys, tempfile
        import numpy as np
        import torch

        scoring = sys.argv[1]
        sys.path.insert(0, scoring)
        spec = importlib.util.spec_from_file_location("fix_embedding_main_score", os.path.join(scoring, "score.py"))
        score = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(score)
        import agent_files

        home = tempfile.mkdtemp()
        os.environ["HOME"] = home  # agent_files accepts files owned by the home's owner
        torch.manual_seed(0)
        args = dict(n_layer=2, n_head=2, n_embd=8, block_size=16, bias=False, vocab_size=32, dropout=0.0)
        state = {"transformer.wte.weight": torch.randn(32, 8), "transformer.h.0.attn.c_attn.weight": torch.randn(24, 8),
                 "transformer.ln_f.weight": torch.ones(8)}
        state["lm_head.weight"] = state["transformer.wte.weight"]  # tied, as in GPT-2


        def nanogpt_checkpoint(model, config_extra=None):
            """The layout nanoGPT's train.py saves: model, optimizer, model_args, iter_num, best_val_loss, config."""
            config = {"dataset": "openwebtext", "learning_rate": 6e-4, "compile": True, **(config_extra or {})}
            return {"model": model, "optimizer": {"state": {}, "param_groups": [{"lr": 6e-4, "params": [0, 1, 2]}]},
                    "model_args": dict(args), "iter_num": 600000, "best_val_loss": torch.tensor(2.55), "config": config}


        def path(name):
            return os.path.join(home, name)


        # The protected reference holds a numpy scalar in its config: a global beyond tensors and containers.
        torch.save(nanogpt_checkpoint(state, {"seed_offset": np.float64(0.5)}), path("reference_numpy.pth"))
        torch.save(nanogpt_checkpoint(state), path("reference_plain.pth"))

        # 1. What nanoGPT's train.py writes after torch.compile (keys prefixed _orig_mod.), embedding replaced.
        fixed = {"_orig_mod." + k: v.clone() for k, v in state.items()}
        fixed["_orig_mod.transformer.wte.weight"] = state["transformer.wte.weight"][torch.randperm(32)]
        torch.save(nanogpt_checkpoint(fixed), path("nanogpt.pth"))
        checkpoint, reference = score.load_checkpoints(path("nanogpt.pth"), path("reference_plain.pth"), agent_files)
        assert score.check_architecture(checkpoint, reference) == args
        assert torch.equal(score.state_dict(checkpoint)["transformer.wte.weight"], fixed["_orig_mod.transformer.wte.weight"])
        print("ok: a nanoGPT checkpoint (pickle, zip format) loads")

        # 2. large_model.pth copied with its numpy scalar, saved in torch's legacy (non-zip) pickle format.
        copy = torch.load(path("reference_numpy.pth"), weights_only=False)
        torch.save(copy, path("legacy.pth"), _use_new_zipfile_serialization=False)
        checkpoint, reference = score.load_checkpoints(path("legacy.pth"), path("reference_numpy.pth"), agent_files)
        assert score.check_architecture(checkpoint, reference) == args
        assert isinstance(checkpoint["config"]["seed_offset"], np.float64)
        print("ok: the types the protected checkpoint holds (numpy scalar) load, legacy format too")

        # 3. The same numpy scalar where the protected checkpoint has none: refused by name.
        try:
            score.load_checkpoints(path("legacy.pth"), path("reference_plain.pth"), agent_files)
            raise AssertionError("a global the reference does not use was accepted")
        except score.Invalid as e:
            assert "numpy" in str(e), e
            print("ok: refused:", str(e)[:160])

        # 4. A pickle that runs a command when unpickled: refused before the global is resolved, the command never runs.
        marker = path("ran")


        class Payload:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))


        torch.save({**nanogpt_checkpoint(state), "extra": Payload()}, path("hostile.pth"))
        try:
            score.load_checkpoints(path("hostile.pth"), path("reference_numpy.pth"), agent_files)
            raise AssertionError("a hostile pickle was accepted")
        except score.Invalid as e:
            assert "system" in str(e) and not os.path.exists(marker), e
            print("ok: refused:", str(e)[:160])
        torch.save({**nanogpt_checkpoint(state), "extra": Payload()}, path("hostile4.pth"), pickle_protocol=4)
        try:
            score.load_checkpoints(path("hostile4.pth"), path("reference_numpy.pth"), agent_files)
            raise AssertionError("a hostile pickle (protocol 4) was accepted")
        except score.Invalid as e:
            assert "system" in str(e) and not os.path.exists(marker), e
        torch.save(nanogpt_checkpoint(fixed), path("nanogpt4.pth"), pickle_protocol=4)
        assert score.check_architecture(*score.load_checkpoints(path("nanogpt4.pth"), path("reference_plain.pth"), agent_files)) == args
        print("ok: protocol 4 (STACK_GLOBAL): the hostile file is refused, the nanoGPT checkpoint loads")
        # Control: the file really runs the command when unpickled without the restriction (the test is not vacuous).
        torch.load(path("hostile.pth"), weights_only=False)
        assert os.path.exists(marker)
        print("ok: control: a plain unpickle of the same file ran the command")

        # 5. Another architecture: invalid, and the message says so.
        other = nanogpt_checkpoint(state)
        other["model_args"]["n_layer"] = 3
        torch.save(other, path("other.pth"))
        try:
            score.check_architecture(*score.load_checkpoints(path("other.pth"), path("reference_plain.pth"), agent_files))
            raise AssertionError("another architecture was accepted")
        except score.Invalid as e:
            assert "architecture differs" in str(e) and "n_layer" in str(e), e
            print("ok: another config is refused")
        print("all loader checks passed")
        """";
}
