using System.Security.Cryptography;

namespace ReBench.Tasks.Tests;

/// <summary>
/// Issue 15: bundles keep a shared file once and layer it into the variants that use it. What an agent and a scorer
/// get must not change with that: every variant's agent/, scoring/ and reference/ folders, as the loader hands them to
/// the sandbox, must hold exactly the files, bytes and executable bits recorded in Fixtures/variant-folders.txt
/// (written from the loader before layering existed, when every file was still a copy). Regenerate it only for a
/// deliberate change of what a variant ships: REBENCH_WRITE_VARIANT_FOLDERS=1 dotnet test --filter VariantFoldersTests.
/// </summary>
public sealed class VariantFoldersTests
{
    private static readonly string Fixture = Path.Combine(Testing.TestEnv.RepoRoot, "tests", "Tasks.Tests", "Fixtures", "variant-folders.txt");

    [Fact]
    public void Every_variant_ships_the_recorded_files()
    {
        var catalog = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));
        Assert.Empty(catalog.Problems);
        var actual = Lines(catalog);
        if (Environment.GetEnvironmentVariable("REBENCH_WRITE_VARIANT_FOLDERS") == "1")
            File.WriteAllLines(Fixture, actual);
        var expected = File.ReadAllLines(Fixture).Where(l => l.Length > 0).ToList();
        Assert.True(expected.Count > 100, "the fixture lists every variant's files"); // control: not an empty fixture
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The operators' scripts (measure_constants.sh) lay out a variant with tasks/_shared/layout.py, outside the
    /// service: it must give every variant the files the loader gives, or constants would be measured on other files.
    /// </summary>
    [Fact]
    public void The_operators_layout_script_gives_every_variant_the_loaders_files()
    {
        var catalog = TaskCatalog.Load(Path.Combine(Testing.TestEnv.RepoRoot, "tasks"));
        var script = Path.Combine(Testing.TestEnv.RepoRoot, "tasks", "_shared", "layout.py");
        var root = Directory.CreateTempSubdirectory("rebench-layout-").FullName;
        try
        {
            var checkedVariants = 0;
            foreach (var bundle in catalog.Bundles)
            foreach (var variant in bundle.Variants)
            {
                var dest = Path.Combine(root, bundle.Id, variant.Name);
                var run = Testing.Host.Run("/usr/bin/python3", script, bundle.Directory, variant.Name, dest);
                Assert.True(run.ExitCode == 0, run.Stderr);
                var folders = new[] { "agent", "scoring", "reference" }.Select(f => (f, Path.Combine(dest, f))).ToArray();
                Assert.Equal(Lines(bundle.Id, variant.Name, VariantFolders(variant)), Lines(bundle.Id, variant.Name, folders));
                checkedVariants++;
            }
            Assert.True(checkedVariants >= 18, $"{checkedVariants} variants"); // control: every shipped variant was compared
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private static (string, string)[] VariantFolders(TaskVariant v) =>
        [("agent", v.Folders.Agent), ("scoring", v.Folders.Scoring), ("reference", v.Folders.Reference)];

    private static List<string> Lines(TaskCatalog catalog) =>
        catalog.Bundles.SelectMany(b => b.Variants.SelectMany(v => Lines(b.Id, v.Name, VariantFolders(v)))).ToList();

    /// <summary>One line a file: "task/variant/folder/relative-path sha256 mode", mode x (owner-executable) or -.</summary>
    private static IEnumerable<string> Lines(string task, string variant, IEnumerable<(string Folder, string Dir)> folders)
    {
        foreach (var (folder, dir) in folders)
        foreach (var (relative, full) in Directory.Exists(dir) ? BundleDigest.Files(dir) : [])
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full)));
            var exec = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & UnixFileMode.UserExecute) != 0 ? "x" : "-";
            yield return $"{task}/{variant}/{folder}/{relative} {sha} {exec}";
        }
    }
}
