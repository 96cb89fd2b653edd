namespace ReBench.Scoring.Tests;

/// <summary>
/// Issue 15: layers (tasks/README.md, "Layers"). A variant's folder is its own files over the files its layers name,
/// file by file; a file kept once in tasks/_shared/ or elsewhere in the bundle reaches every folder that names it.
/// </summary>
public sealed class LayerTests : TempTasksTests
{
    private const string TwoVariants = """
          - name: big
            instructions: instructions.md
            layers:
              - from: scoring
                into: scoring

        """;

    private static Dictionary<string, string> Files(string folder) =>
        BundleDigest.Files(folder).ToDictionary(f => f.Relative, f => File.ReadAllText(f.Full), StringComparer.Ordinal);

    [Fact]
    public void A_variant_overrides_one_file_of_its_layer_and_adds_one_of_its_own()
    {
        var dir = Temp.WriteBundle("layered", TempTasks.ValidManifest + TwoVariants);
        TempTasks.Write(dir, "scoring/helper.py", "shared = True\n");
        TempTasks.Write(dir, "variants/big/scoring/score.py", "print('big')\n");
        TempTasks.Write(dir, "variants/big/scoring/extra.py", "extra = 1\n");

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Problems);
        var big = catalog.Resolve("layered", "big").Folders.Scoring;
        Assert.Equal(new Dictionary<string, string>
        {
            ["score.py"] = "print('big')\n",     // the variant's own file wins over the layer's
            ["helper.py"] = "shared = True\n",  // from the layer
            ["extra.py"] = "extra = 1\n",       // the variant's addition
        }, Files(big));
        Assert.False(big.StartsWith(dir, StringComparison.Ordinal)); // composed, not the bundle's folder
        // Control: the variant without layers keeps today's folder, the bundle's own, untouched.
        var cpu = catalog.Resolve("layered", "cpu").Folders.Scoring;
        Assert.Equal(Path.Combine(dir, "scoring"), cpu);
        Assert.Equal(["helper.py", "score.py"], Files(cpu).Keys.Order(StringComparer.Ordinal));
        // The scorer digest is over what the scorer gets.
        Assert.Equal(BundleDigest.Compute(big), catalog.Resolve("layered", "big").ScorerDigest);
    }

    [Fact]
    public void A_shared_file_beside_the_bundles_reaches_two_tasks_and_counts_in_their_digests()
    {
        var manifest = TempTasks.ValidManifest + """
            layers:
              - from: _shared/ipc/judged_process.py
                into: scoring
              - from: _shared/ipc/judged_process.py
                into: agent/solution
                as: judge.py

            """;
        var one = Temp.WriteBundle("one", manifest);
        Temp.WriteBundle("two", manifest);
        TempTasks.Write(Temp.Root, "_shared/ipc/judged_process.py", "def run(): pass\n");

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Problems); // _shared is not read as a bundle
        Assert.Equal(["one", "two"], catalog.Bundles.Select(b => b.Id));
        foreach (var id in new[] { "one", "two" })
        {
            var v = catalog.Resolve(id, "cpu");
            Assert.Equal("def run(): pass\n", File.ReadAllText(Path.Combine(v.Folders.Scoring, "judged_process.py")));
            Assert.Equal("def run(): pass\n", File.ReadAllText(Path.Combine(v.Folders.Agent, "solution", "judge.py")));
            Assert.True(File.Exists(Path.Combine(v.Folders.Agent, "solution.py"))); // the bundle's own agent files stay
        }
        var before = catalog.Bundle("one").Digest;
        TempTasks.Write(Temp.Root, "_shared/ipc/judged_process.py", "def run(): return 1\n");
        var after = TaskCatalog.Load(Temp.Root);
        Assert.NotEqual(before, after.Bundle("one").Digest);
        Assert.Equal("def run(): return 1\n", File.ReadAllText(Path.Combine(after.Resolve("one", "cpu").Folders.Scoring, "judged_process.py")));
        Assert.True(File.Exists(Path.Combine(one, "manifest.yaml")));
    }

    [Fact]
    public void A_composed_folder_removed_after_the_load_is_laid_out_again_when_next_read()
    {
        var dir = Temp.WriteBundle("cleaned", TempTasks.ValidManifest + TwoVariants);
        TempTasks.Write(dir, "variants/big/scoring/extra.py", "extra = 1\n");
        var variant = TaskCatalog.Load(Temp.Root).Resolve("cleaned", "big");
        var first = variant.Folders.Scoring;
        var before = Files(first);

        File.Delete(Path.Combine(first, "score.py")); // as a /tmp cleaner would, file by file
        Assert.Equal(first, variant.Folders.Scoring);
        Assert.Equal(before, Files(first));
        Directory.Delete(first, recursive: true);
        Assert.Equal(before, Files(variant.Folders.Scoring));
        // Control: a bundle's own folder is handed out as it is, never rewritten.
        var cpu = TaskCatalog.Load(Temp.Root).Resolve("cleaned", "cpu").Folders;
        File.Delete(Path.Combine(dir, "reference", "solution.py"));
        Assert.False(File.Exists(Path.Combine(cpu.Reference, "solution.py")));
    }

    [Fact]
    public void Layered_folders_go_under_the_configured_layers_root()
    {
        var dir = Temp.WriteBundle("rooted", TempTasks.ValidManifest + TwoVariants);
        var layersRoot = Path.Combine(Temp.Root, ".layers"); // hidden: not read as a bundle
        Directory.CreateDirectory(layersRoot);

        var catalog = TaskCatalog.Load(Temp.Root, layersRoot);

        Assert.StartsWith(layersRoot + Path.DirectorySeparatorChar, catalog.Resolve("rooted", "big").Folders.Scoring);
        Assert.Equal(Path.Combine(dir, "scoring"), catalog.Resolve("rooted", "cpu").Folders.Scoring); // control: not layered
        Assert.Single(Directory.GetDirectories(layersRoot)); // one composed folder, no staging left behind
    }

    [Fact]
    public void Layered_files_keep_their_executable_bit()
    {
        if (OperatingSystem.IsWindows()) return;
        var dir = Temp.WriteBundle("modes", TempTasks.ValidManifest + TwoVariants);
        TempTasks.Write(dir, "scoring/run.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(dir, "scoring/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var big = TaskCatalog.Load(Temp.Root).Resolve("modes", "big").Folders.Scoring;

        Assert.True((File.GetUnixFileMode(Path.Combine(big, "run.sh")) & UnixFileMode.UserExecute) != 0);
        Assert.True((File.GetUnixFileMode(Path.Combine(big, "score.py")) & UnixFileMode.UserExecute) == 0); // control
    }

    public static TheoryData<string, string, string> BadLayers() => new()
    {
        // layer lines (under the cpu variant), the field named, words the message must hold
        { "      - from: _shared/nope.py\n        into: scoring", "variants[cpu].layers[0].from", "is missing" },
        { "      - from: scoring/nope.py\n        into: scoring", "variants[cpu].layers[0].from", "is missing" },
        { "      - from: ../other_task/scoring/score.py\n        into: scoring", "variants[cpu].layers[0].from", "plain relative path" },
        { "      - from: _shared/../../etc/passwd\n        into: scoring", "variants[cpu].layers[0].from", "plain relative path" },
        { "      - from: /etc/passwd\n        into: scoring", "variants[cpu].layers[0].from", "plain relative path" },
        { "      - from: scoring/score.py\n        into: scoring/../../x", "variants[cpu].layers[0].into", "agent, scoring or reference" },
        { "      - from: scoring/score.py\n        into: home", "variants[cpu].layers[0].into", "agent, scoring or reference" },
        { "      - from: scoring/score.py\n        into: agent\n        as: ../x.py", "variants[cpu].layers[0].as", "plain file name" },
        { "      - from: scoring\n        into: agent\n        as: x.py", "variants[cpu].layers[0].as", "one file" },
        { "      - from: scoring/score.py\n        into: agent\n        as: solution.py\n      - from: reference/solution.py\n        into: agent",
            "variants[cpu].layers[1]", "which variants[cpu].layers[0] gives too" },
    };

    [Theory]
    [MemberData(nameof(BadLayers))]
    public void A_bad_layer_refuses_the_bundle_with_a_clear_message(string layers, string field, string words)
    {
        var manifest = TempTasks.ValidManifest.Replace("    instructions: instructions.md\n", "    instructions: instructions.md\n    layers:\n" + layers + "\n");
        Temp.WriteBundle("bad_task", manifest);
        Temp.WriteBundle("good_task"); // control: the good bundle beside it loads

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Equal(["good_task"], catalog.Bundles.Select(b => b.Id));
        var problem = Assert.Single(catalog.Problems);
        Assert.StartsWith($"bad_task/manifest.yaml: {field} ", problem.Message);
        Assert.Contains(words, problem.Message);
        Assert.DoesNotContain("passwd\n", problem.Message);
    }

    [Fact]
    public void A_variant_with_folders_of_may_not_add_layers_and_takes_the_others_layers()
    {
        var ok = TempTasks.ValidManifest + TwoVariants + "  - name: hidden\n    instructions: instructions.md\n    folders_of: big\n";
        var dir = Temp.WriteBundle("ok_task", ok);
        TempTasks.Write(dir, "variants/big/scoring/score.py", "print('big')\n");
        var bad = ok + "    layers:\n      - from: scoring/score.py\n        into: agent\n";
        Temp.WriteBundle("bad_task", bad);

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Equal(["ok_task"], catalog.Bundles.Select(b => b.Id));
        Assert.Contains("variants[hidden].layers cannot go with folders_of", Assert.Single(catalog.Problems).Message);
        Assert.Equal(catalog.Resolve("ok_task", "big").Folders, catalog.Resolve("ok_task", "hidden").Folders);
    }
}
