namespace ReBench.Scoring.Tests;

public sealed class CatalogTests : TempTasksTests
{
    public static TheoryData<string, string, string, string> BrokenBundles() => new()
    {
        // case, edit (see Break), expected file in the message, expected field
        { "missing start", "manifest:  start: 5.0\n=>", "manifest.yaml", "scoring.start" },
        { "missing reference", "manifest:  reference: 1.0\n=>", "manifest.yaml", "scoring.reference" },
        { "start equals reference", "manifest:reference: 1.0=>reference: 5.0", "manifest.yaml", "scoring.reference" },
        { "reference worse than start", "manifest:reference: 1.0=>reference: 9.0", "manifest.yaml", "scoring.reference" },
        { "unknown aggregation", "manifest:aggregation: min=>aggregation: median", "manifest.yaml", "scoring.aggregation" },
        { "unknown direction", "manifest:direction: lower=>direction: sideways", "manifest.yaml", "scoring.direction" },
        { "no measured_by", "manifest:  measured_by: written by hand for a test\n=>", "manifest.yaml", "scoring.measured_by" },
        { "instructions file missing", "delete:instructions.md", "instructions.md", "variants[cpu].instructions" },
        { "scorer missing", "delete:scoring/score.py", "scoring/score.py", "file" },
        { "reference folder missing", "delete:reference/solution.py", "reference/", "folder" },
        { "agent folder missing", "rmdir:agent", "agent/", "folder" },
        { "wrong format version", "manifest:format_version: 1=>format_version: 2", "manifest.yaml", "format_version" },
        { "id differs from folder", "manifest:id: {ID}=>id: other_task", "manifest.yaml", "id" },
        { "unknown field", "manifest:title: A test task=>title: A test task\ntitel: typo", "manifest.yaml", "'titel'" },
        { "default variant unknown", "manifest:title: A test task=>title: A test task\ndefault_variant: gpu", "manifest.yaml", "default_variant" },
        { "no cpus", "manifest:  cpus: 1\n=>", "manifest.yaml", "resources.cpus" },
        { "gpu without model", "manifest:  memory_mb: 512=>  memory_mb: 512\n  gpu:\n    count_range: [1, 1]", "manifest.yaml", "resources.gpu.model" },
        { "duplicate variant", "manifest:    instructions: instructions.md=>    instructions: instructions.md\n  - name: cpu\n    instructions: instructions.md", "manifest.yaml", "variants[1].name" },
        { "manifest missing", "delete:manifest.yaml", "manifest.yaml", "file" },
        { "folders of an unknown variant", "manifest:    instructions: instructions.md=>    instructions: instructions.md\n    folders_of: main", "manifest.yaml", "variants[cpu].folders_of" },
    };

    [Theory]
    [MemberData(nameof(BrokenBundles))]
    public void A_broken_bundle_is_refused_with_its_file_and_field_and_the_good_one_still_loads(
        string @case, string edit, string file, string field)
    {
        Temp.WriteBundle("good_task");
        Break(Temp.WriteBundle("bad_task"), edit);

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Equal(["good_task"], catalog.Bundles.Select(b => b.Id));
        var problem = Assert.Single(catalog.Problems, p => p.Message.Contains(field, StringComparison.Ordinal));
        Assert.StartsWith($"bad_task/{file}", problem.Message);
        Assert.Equal(Path.Combine(Temp.Root, "bad_task", file), problem.Path);
        Assert.True(problem.Message.Length > $"bad_task/{file}: {field}".Length, $"{@case}: '{problem.Message}' says nothing about the problem");
    }

    [Fact]
    public void Every_problem_of_a_bundle_is_listed()
    {
        var manifest = TempTasks.ValidManifest.Replace("  start: 5.0\n", "").Replace("aggregation: min", "aggregation: mean");
        Temp.WriteBundle("bad_task", manifest);

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Bundles);
        Assert.Contains(catalog.Problems, p => p.Message.Contains("scoring.start"));
        Assert.Contains(catalog.Problems, p => p.Message.Contains("scoring.aggregation") && p.Message.Contains("'mean'"));
    }

    [Fact]
    public void A_variant_overrides_fields_and_folders_of_the_task()
    {
        var manifest = TempTasks.ValidManifest + """
              - name: big
                instructions: big.md
                overrides:
                  resources:
                    cpus: 8
                  permissions:
                    network: true
                  scoring:
                    start: 6.5
                    aggregation: last
            default_variant: big

            """;
        var dir = Temp.WriteBundle("multi", manifest);
        TempTasks.Write(dir, "big.md", "Bigger.\n");
        TempTasks.Write(dir, "variants/big/agent/solution.py", "big = True\n");

        var catalog = TaskCatalog.Load(Temp.Root);

        Assert.Empty(catalog.Problems);
        var bundle = Assert.Single(catalog.Bundles);
        Assert.Equal("big", bundle.DefaultVariant);
        var cpu = catalog.Resolve("multi", "cpu");
        var big = catalog.Resolve("multi", "");
        Assert.Equal("big", big.Name);
        Assert.Equal((1, 8), (cpu.Resources.Cpus, big.Resources.Cpus));
        Assert.Equal((512L, 512L), (cpu.Resources.MemoryMb, big.Resources.MemoryMb));
        Assert.Equal((false, true), (cpu.Network, big.Network));
        Assert.Equal((5.0, 6.5), (cpu.Scoring.Start, big.Scoring.Start));
        Assert.Equal((AggregationRule.Min, AggregationRule.Last), (cpu.Scoring.Aggregation, big.Scoring.Aggregation));
        Assert.Equal(Path.Combine(dir, "agent"), cpu.Folders.Agent);
        Assert.Equal(Path.Combine(dir, "variants", "big", "agent"), big.Folders.Agent);
        Assert.Equal(Path.Combine(dir, "scoring"), big.Folders.Scoring);
        Assert.Equal("Bigger.\n", big.Instructions);
        Assert.Equal(BundleLoader.DefaultScorerCommand, big.Scoring.Command);
        Assert.Equal(30, big.Scoring.TimeoutSeconds);
        Assert.True(big.Scoring.ScoreVisible);
    }

    [Fact]
    public void Resolve_names_the_known_tasks_and_variants_and_why_a_bundle_was_refused()
    {
        Temp.WriteBundle("good_task");
        Break(Temp.WriteBundle("bad_task"), "delete:scoring/score.py");
        var catalog = TaskCatalog.Load(Temp.Root);

        var unknown = Assert.Throws<RpcException>(() => catalog.Resolve("nope", ""));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("'nope'", unknown.Status.Detail);
        Assert.Contains("known tasks: good_task", unknown.Status.Detail);
        var refused = Assert.Throws<RpcException>(() => catalog.Resolve("bad_task", ""));
        Assert.Contains("scoring/score.py", refused.Status.Detail);
        var variant = Assert.Throws<RpcException>(() => catalog.Resolve("good_task", "gpu"));
        Assert.Equal(StatusCode.NotFound, variant.StatusCode);
        Assert.Contains("no variant 'gpu'; its variants: cpu", variant.Status.Detail);
    }

    [Fact]
    public void Digests_are_stable_and_change_with_any_file()
    {
        var dir = Temp.WriteBundle("task_a");
        var first = TaskCatalog.Load(Temp.Root).Resolve("task_a", "");
        var again = TaskCatalog.Load(Temp.Root).Resolve("task_a", "");
        Assert.Equal(first.BundleDigest, again.BundleDigest);
        Assert.Equal(first.ScorerDigest, again.ScorerDigest);
        Assert.Matches("^[0-9a-f]{64}$", first.BundleDigest);
        Assert.NotEqual(first.BundleDigest, first.ScorerDigest);

        // A Python byte-code cache is not content.
        TempTasks.Write(dir, "scoring/__pycache__/score.cpython-311.pyc", "cache");
        Assert.Equal(first.BundleDigest, BundleDigest.Compute(dir));

        TempTasks.Write(dir, "agent/solution.py", "def f():\n    return 3\n");
        var agentChanged = TaskCatalog.Load(Temp.Root).Resolve("task_a", "");
        Assert.NotEqual(first.BundleDigest, agentChanged.BundleDigest);
        Assert.Equal(first.ScorerDigest, agentChanged.ScorerDigest);

        TempTasks.Write(dir, "scoring/score.py", "print('changed')\n");
        var scorerChanged = TaskCatalog.Load(Temp.Root).Resolve("task_a", "");
        Assert.NotEqual(agentChanged.BundleDigest, scorerChanged.BundleDigest);
        Assert.NotEqual(first.ScorerDigest, scorerChanged.ScorerDigest);

        // Same bytes under another name is other content.
        File.Move(Path.Combine(dir, "reference", "solution.py"), Path.Combine(dir, "reference", "solution2.py"));
        Assert.NotEqual(scorerChanged.BundleDigest, BundleDigest.Compute(dir));
    }

    [Fact]
    public void The_shipped_tasks_all_load()
    {
        var catalog = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));
        Assert.Empty(catalog.Problems);
        var cumsum = catalog.Resolve("ai_rd_triton_cumsum", "");
        Assert.Equal("cpu", cumsum.Name);
        Assert.Equal(AggregationRule.Min, cumsum.Scoring.Aggregation);
        Assert.Equal(ScoreDirection.Lower, cumsum.Scoring.Direction);
        Assert.True(cumsum.Scoring.Reference < cumsum.Scoring.Start);
        Assert.Contains("Use the `score` action to score your submission.", cumsum.Instructions);
        Assert.True(File.Exists(Path.Combine(cumsum.Folders.Scoring, "score.py")));
        Assert.True(File.Exists(Path.Combine(cumsum.Folders.Agent, "solution.py")));
    }

    private static void Break(string dir, string edit)
    {
        var (kind, arg) = (edit[..edit.IndexOf(':')], edit[(edit.IndexOf(':') + 1)..]);
        if (kind == "rmdir")
        {
            Directory.Delete(Path.Combine(dir, arg), recursive: true);
            return;
        }
        if (kind == "delete")
        {
            File.Delete(Path.Combine(dir, arg));
            return;
        }
        var parts = arg.Split("=>");
        var manifest = Path.Combine(dir, "manifest.yaml");
        var text = File.ReadAllText(manifest);
        var from = parts[0].Replace("{ID}", Path.GetFileName(dir));
        Assert.Contains(from, text);
        File.WriteAllText(manifest, text.Replace(from, parts[1]));
    }
}
