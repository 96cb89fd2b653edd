using System.Text.RegularExpressions;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// No feature folder of a service imports a folder that imports it back, directly or through others (issue 15):
/// a loop means neither side can change or be understood alone. A folder is the namespace segment under the
/// service's root namespace (ReBench.Orchestrator.Attempts); files in the root namespace (setup, Program) compose
/// the folders and are not one.
/// </summary>
public sealed class FolderDependencyTests
{
    public static TheoryData<string> Services() =>
        [.. Directory.GetDirectories(Path.Combine(TestEnv.RepoRoot, "services")).Select(Path.GetFileName).OfType<string>().Order()];

    [Theory]
    [MemberData(nameof(Services))]
    public void Feature_folders_of_a_service_import_each_other_without_loops(string service)
    {
        var graph = FolderGraph.Read(Path.Combine(TestEnv.RepoRoot, "services", service));

        var cycles = graph.Cycles();

        Assert.True(cycles.Count == 0, $"services/{service} has folders that import each other:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_reader_sees_the_imports_that_exist_in_the_tree()
    {
        // Control: an analysis that found no imports at all would pass the test above vacuously.
        var graph = FolderGraph.Read(Path.Combine(TestEnv.RepoRoot, "services", "orchestrator"));

        Assert.Contains("Attempts", graph.Imports("Storage"));
        Assert.Contains("Attempts", graph.Imports("Grpc"));
        Assert.Contains("Streams", graph.Imports("Campaigns"));
    }

    [Fact]
    public void A_loop_through_a_using_and_a_qualified_name_is_reported()
    {
        var graph = FolderGraph.From("ReBench.Svc",
        [
            ("A/One.cs", "using ReBench.Svc.B;\nnamespace ReBench.Svc.A;\npublic sealed class One(Two two);"),
            // Qualified through the shared parent namespace, with no using: the loop a grep for usings misses.
            ("B/Two.cs", "namespace ReBench.Svc.B;\npublic sealed class Two { C.Three? Next; }"),
            ("C/Three.cs", "namespace ReBench.Svc.C;\n// A.One in a comment is no import\npublic sealed class Three { A.One? Back; }"),
            ("D/Four.cs", "using ReBench.Svc.A;\nnamespace ReBench.Svc.D;\npublic sealed class Four;"),
        ]);

        var cycle = Assert.Single(graph.Cycles());

        Assert.Contains("A -> B", cycle);
        Assert.Contains("C -> A", cycle);
        Assert.DoesNotContain("D", cycle);
    }

    [Fact]
    public void Imports_in_comments_and_strings_are_not_loops()
    {
        var graph = FolderGraph.From("ReBench.Svc",
        [
            ("A/One.cs", "using ReBench.Svc.B;\nnamespace ReBench.Svc.A;\npublic sealed class One(Two two);"),
            ("B/Two.cs", "namespace ReBench.Svc.B;\n/// <see cref=\"A.One\"/>\npublic sealed class Two { string S = \"A.One\"; }"),
        ]);

        Assert.Empty(graph.Cycles());
    }
}

/// <summary>Which folder of a service imports which, read from the sources (usings and qualified names).</summary>
internal sealed partial class FolderGraph
{
    private readonly Dictionary<string, Dictionary<string, SortedSet<string>>> _edges = [];

    public static FolderGraph Read(string serviceDir)
    {
        var files = Directory.EnumerateFiles(serviceDir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(serviceDir, f).Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"))
            .Select(f => (Path.GetRelativePath(serviceDir, f), File.ReadAllText(f)))
            .ToList();
        var root = files.Select(f => Namespace().Match(f.Item2)).Where(m => m.Success)
            .Select(m => string.Join('.', m.Groups[1].Value.Split('.').Take(2))).GroupBy(n => n).MaxBy(g => g.Count())?.Key
            ?? throw new InvalidOperationException($"{serviceDir} declares no namespace");
        return From(root, files);
    }

    public static FolderGraph From(string rootNamespace, IReadOnlyList<(string Path, string Text)> files)
    {
        var graph = new FolderGraph();
        var code = files.Select(f => (f.Path, Text: StripCommentsAndStrings(f.Text))).ToList();
        var prefix = rootNamespace + ".";
        string? FolderOf(string text) =>
            Namespace().Match(text) is { Success: true } m && m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal)
                ? m.Groups[1].Value[prefix.Length..].Split('.')[0]
                : null;
        var types = code.Where(f => FolderOf(f.Text) is not null).GroupBy(f => FolderOf(f.Text)!)
            .ToDictionary(g => g.Key, g => g.SelectMany(f => TypeDeclaration().Matches(f.Text).Select(m => m.Groups[1].Value)).ToHashSet());
        var qualified = new Regex(@"\b" + Regex.Escape(rootNamespace) + @"\.(\w+)");
        foreach (var (path, text) in code)
        {
            if (FolderOf(text) is not { } from) continue;
            foreach (Match m in qualified.Matches(text))
            {
                if (types.ContainsKey(m.Groups[1].Value)) graph.Add(from, m.Groups[1].Value, path);
            }
            // Inside ReBench.Svc.X, "Y.Type" names ReBench.Svc.Y.Type through the shared parent namespace.
            var body = string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith("using ", StringComparison.Ordinal)));
            foreach (Match m in SiblingQualified().Matches(body))
            {
                if (types.TryGetValue(m.Groups[1].Value, out var declared) && declared.Contains(m.Groups[2].Value)) graph.Add(from, m.Groups[1].Value, path);
            }
        }
        return graph;
    }

    public IReadOnlySet<string> Imports(string folder) =>
        _edges.TryGetValue(folder, out var to) ? to.Keys.ToHashSet() : new HashSet<string>();

    /// <summary>Loops as "A -> B [files]; B -> A [files]", none through a folder already reported; empty for a DAG.</summary>
    public List<string> Cycles()
    {
        var cycles = new List<string>();
        var seen = new HashSet<string>();
        foreach (var start in _edges.Keys.Order(StringComparer.Ordinal))
        {
            // The shortest loop back to start through folders not already reported, breadth first.
            var back = new Dictionary<string, string>();
            var queue = new Queue<string>([start]);
            while (queue.Count > 0 && !back.ContainsKey(start))
            {
                var at = queue.Dequeue();
                foreach (var next in Imports(at).Order(StringComparer.Ordinal))
                {
                    if (seen.Contains(next) || back.ContainsKey(next)) continue;
                    back[next] = at;
                    queue.Enqueue(next);
                }
            }
            if (!back.ContainsKey(start)) continue;
            var path = new List<string> { start };
            for (var at = back[start]; at != start; at = back[at]) path.Insert(0, at);
            path.Insert(0, start);
            cycles.Add(string.Join("; ", path.Zip(path.Skip(1)).Select(p => $"{p.First} -> {p.Second} [{string.Join(", ", _edges[p.First][p.Second])}]")));
            seen.UnionWith(path);
        }
        return cycles;
    }

    private void Add(string from, string to, string path)
    {
        if (from == to) return;
        if (!_edges.TryGetValue(from, out var targets)) _edges[from] = targets = [];
        if (!targets.TryGetValue(to, out var files)) targets[to] = files = new SortedSet<string>(StringComparer.Ordinal);
        files.Add(path.Replace('\\', '/'));
    }

    private static string StripCommentsAndStrings(string text) => CommentOrString().Replace(text, m => m.Value.StartsWith('/') ? " " : "\"\"");

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+(\w+)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"(?<![\w.:])([A-Z]\w*)\.([A-Z]\w*)")]
    private static partial Regex SiblingQualified();

    // Comments, then verbatim/raw/regular strings and chars (an interpolation's code is dropped with its string).
    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|"{3,}.*?"{3,}|@"(?:[^"]|"")*"|\$?"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)'""", RegexOptions.Singleline)]
    private static partial Regex CommentOrString();
}
