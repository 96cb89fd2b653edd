using System.Security.Cryptography;
using ReBench.Scoring.Catalog;

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

    /// <summary>One line a file: "task/variant/folder/relative-path sha256 mode", mode x (owner-executable) or -.</summary>
    private static List<string> Lines(TaskCatalog catalog)
    {
        var lines = new List<string>();
        foreach (var bundle in catalog.Bundles)
        foreach (var variant in bundle.Variants)
        foreach (var (folder, dir) in new[] { ("agent", variant.Folders.Agent), ("scoring", variant.Folders.Scoring), ("reference", variant.Folders.Reference) })
        foreach (var (relative, full) in BundleDigest.Files(dir))
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full)));
            var exec = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & UnixFileMode.UserExecute) != 0 ? "x" : "-";
            lines.Add($"{bundle.Id}/{variant.Name}/{folder}/{relative} {sha} {exec}");
        }
        return lines;
    }
}
