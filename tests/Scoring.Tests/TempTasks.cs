namespace ReBench.Scoring.Tests;

/// <summary>A throw-away tasks root to write bundles into, good ones and deliberately broken ones.</summary>
public sealed class TempTasks : IDisposable
{
    public const string ValidManifest = """
        format_version: 1
        id: {ID}
        version: 1.0.0
        title: A test task
        permissions:
          network: false
        resources:
          cpus: 1
          memory_mb: 512
        scoring:
          raw_score: ln(seconds)
          direction: lower
          aggregation: min
          start: 5.0
          reference: 1.0
          measured_by: written by hand for a test
          scorer_timeout_seconds: 30
        variants:
          - name: cpu
            instructions: instructions.md

        """;

    public string Root { get; } = Directory.CreateTempSubdirectory("rebench-tasks-").FullName;

    /// <summary>Writes a complete, valid bundle; <paramref name="manifest"/> replaces the manifest text ({ID} = id).</summary>
    public string WriteBundle(string id, string? manifest = null)
    {
        var dir = Path.Combine(Root, id);
        Write(dir, "manifest.yaml", (manifest ?? ValidManifest).Replace("{ID}", id));
        Write(dir, "instructions.md", "Make it fast.\n");
        Write(dir, "agent/solution.py", "def f():\n    return 1\n");
        Write(dir, "scoring/score.py", "print('{\"score\": 1.0, \"message\": {}, \"details\": {}}')\n");
        Write(dir, "reference/solution.py", "def f():\n    return 2\n");
        return dir;
    }

    public static void Write(string dir, string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>A test class with its own throw-away tasks root, removed after each test.</summary>
public abstract class TempTasksTests : IDisposable
{
    protected TempTasks Temp { get; } = new();

    /// <summary>The valid manifest with <paramref name="lines"/> (indented, newline-ended) added to its scoring section.</summary>
    protected static string ManifestWithScoring(string lines) =>
        TempTasks.ValidManifest.Replace("  scorer_timeout_seconds: 30\n", "  scorer_timeout_seconds: 30\n" + lines);

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
