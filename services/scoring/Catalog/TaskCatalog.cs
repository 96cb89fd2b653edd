using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Catalog;

/// <summary>
/// Every bundle under the tasks root, loaded once at start. Bad bundles are refused one by one and listed in
/// <see cref="Problems"/>; the good ones are served regardless.
/// </summary>
public sealed class TaskCatalog
{
    private readonly Dictionary<string, TaskBundle> _bundles;

    private TaskCatalog(string root, IEnumerable<TaskBundle> bundles, IReadOnlyList<BundleProblem> problems)
    {
        Root = root;
        _bundles = bundles.ToDictionary(b => b.Id, StringComparer.Ordinal);
        Problems = problems;
    }

    public string Root { get; }
    public IReadOnlyList<BundleProblem> Problems { get; }
    public IEnumerable<TaskBundle> Bundles => _bundles.Values.OrderBy(b => b.Id, StringComparer.Ordinal);

    /// <summary>
    /// Each folder of <paramref name="root"/> is a bundle, except hidden ones (".git", ".cache") and "_" ones
    /// (_shared: files bundles layer in, no bundle of its own).
    /// </summary>
    public static TaskCatalog Load(string root, string? layersRoot = null)
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root)) throw new InvalidOperationException($"tasks root '{root}' (Scoring:TasksRoot) does not exist");
        var bundles = new List<TaskBundle>();
        var problems = new List<BundleProblem>();
        foreach (var dir in Directory.GetDirectories(root).Where(d => Path.GetFileName(d) is var n && !n.StartsWith('.') && !n.StartsWith('_')).Order(StringComparer.Ordinal))
        {
            var (bundle, errors) = BundleLoader.Load(dir, layersRoot);
            if (bundle is not null) bundles.Add(bundle);
            problems.AddRange(errors);
        }
        return new TaskCatalog(root, bundles, problems);
    }

    /// <summary>Scoring:TasksRoot, or else the tasks/ folder beside RE-Bench.sln above the app's base directory.</summary>
    public static string ResolveRoot(string? configured, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RE-Bench.sln"))) return Path.Combine(dir.FullName, "tasks");
        }
        throw new InvalidOperationException($"Scoring:TasksRoot is not set and no RE-Bench.sln was found above {baseDirectory}");
    }

    /// <summary>The task's variant, its default one when <paramref name="variant"/> is empty; NotFound names what exists.</summary>
    public TaskVariant Resolve(string taskId, string? variant)
    {
        if (!_bundles.TryGetValue(taskId, out var bundle))
        {
            var known = _bundles.Count == 0 ? "none" : string.Join(", ", _bundles.Keys.Order(StringComparer.Ordinal));
            var refused = Problems.Where(p => p.Message.StartsWith(taskId + "/", StringComparison.Ordinal)).Select(p => p.Message).ToList();
            var why = refused.Count == 0 ? "" : $"; its bundle was refused: {string.Join("; ", refused)}";
            throw Guard.NotFound($"unknown task '{taskId}'{why}; known tasks: {known}");
        }
        var name = string.IsNullOrEmpty(variant) ? bundle.DefaultVariant : variant;
        return bundle.Variants.FirstOrDefault(v => v.Name == name)
            ?? throw Guard.NotFound($"task '{taskId}' has no variant '{name}'; its variants: {string.Join(", ", bundle.VariantNames)}");
    }

    public TaskBundle Bundle(string taskId) => _bundles[taskId];
}
