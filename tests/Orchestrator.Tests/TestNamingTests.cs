using System.Text.RegularExpressions;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// One test-name style across the suite (issue 15): a behaviour written as a sentence with underscores
/// (<c>A_key_file_is_read</c>). A PascalCase name added later fails here with its file, so the style does not drift
/// back to two.
/// </summary>
public sealed partial class TestNamingTests
{
    [GeneratedRegex(@"\[(?:Fact|Theory|SkippableFact)[^\]]*\]\s*(?:\[[^\]]*\]\s*)*public\s+(?:async\s+)?(?:Task|void)\s+(\w+)\s*\(")]
    private static partial Regex TestMethod();

    private static IEnumerable<(string File, string Name)> TestMethods() =>
        Directory.EnumerateFiles(Path.Combine(TestEnv.RepoRoot, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => TestMethod().Matches(File.ReadAllText(f)).Select(m => (Path.GetRelativePath(TestEnv.RepoRoot, f), m.Groups[1].Value)));

    [Fact]
    public void Every_test_is_named_as_a_sentence_with_underscores()
    {
        var all = TestMethods().ToList();
        Assert.True(all.Count > 500, $"only {all.Count} tests found: the scan is not reading the suite"); // control

        var pascal = all.Where(t => !t.Name.Contains('_')).Select(t => $"{t.File}: {t.Name}").ToList();

        Assert.True(pascal.Count == 0, "name these as sentences with underscores (A_key_file_is_read):\n" + string.Join("\n", pascal));
    }
}
