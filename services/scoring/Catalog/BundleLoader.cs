using System.Text.RegularExpressions;
using ReBench.Scoring.Scores;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ReBench.Scoring.Catalog;

/// <summary>
/// Reads and validates one bundle folder. A bundle with any problem is refused as a whole, with every problem listed,
/// so a task author fixes them in one pass.
/// </summary>
public static partial class BundleLoader
{
    public const int FormatVersion = 1;
    public const string ManifestFile = "manifest.yaml";
    public const string DefaultScorerCommand = "/usr/bin/python3 \"$REBENCH_PROTECTED/score.py\"";
    public const int DefaultScorerTimeoutSeconds = 600;

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <param name="layersRoot">Where layered folders are composed (Scoring:LayersRoot); null: a temporary directory.</param>
    public static (TaskBundle? Bundle, IReadOnlyList<BundleProblem> Problems) Load(string directory, string? layersRoot = null)
    {
        directory = Path.GetFullPath(directory);
        var problems = new Problems(directory);
        var manifest = Parse(directory, problems);
        if (manifest is null) return (null, problems.Items);

        var id = CheckHeader(manifest, directory, problems);
        var family = TaskStandardBridgeSpec.CheckKind(manifest, ManifestFile, (file, field, problem) => problems.Add(file, field, problem));
        var variants = CheckVariantList(manifest, directory, problems);
        // The bundle digest covers the files it layers in from beside it too: a change there changes the task.
        var digest = BundleDigest.Compute(BundleDigest.Files(directory).Concat(SharedLayerFiles(manifest, directory)));
        var built = variants.Select(v => BuildVariant(manifest, v, directory, digest, family, layersRoot, problems)).ToList();
        if (problems.Items.Count > 0 || id is null) return (null, problems.Items);

        var defaultVariant = manifest.DefaultVariant ?? built[0]!.Name;
        return (new TaskBundle(id, directory, defaultVariant, digest, built.Select(v => v!).ToList()), []);
    }

    private static ManifestDocument? Parse(string directory, Problems problems)
    {
        var path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path))
        {
            problems.Add(ManifestFile, "file", "is missing");
            return null;
        }
        try
        {
            var manifest = Yaml.Deserialize<ManifestDocument?>(File.ReadAllText(path));
            if (manifest is null) problems.Add(ManifestFile, "file", "is empty");
            return manifest;
        }
        catch (YamlException e)
        {
            // YamlDotNet names the C# type ("... not found on type 'X'"), which means nothing to a task author.
            var reason = TypeName().Replace((e.InnerException ?? e).Message, "");
            problems.Add(ManifestFile, $"line {e.Start.Line}, column {e.Start.Column}", $"cannot be read: {reason}");
            return null;
        }
    }

    private static string? CheckHeader(ManifestDocument m, string directory, Problems problems)
    {
        if (m.FormatVersion != FormatVersion)
            problems.Add(ManifestFile, "format_version", m.FormatVersion is null
                ? $"is missing (this platform reads format {FormatVersion})"
                : $"is {m.FormatVersion}; this platform reads format {FormatVersion}");
        var folder = Path.GetFileName(directory);
        if (string.IsNullOrWhiteSpace(m.Id)) problems.Add(ManifestFile, "id", "is missing");
        else if (m.Id != folder) problems.Add(ManifestFile, "id", $"'{m.Id}' differs from the bundle's folder name '{folder}'");
        else if (!NamePattern().IsMatch(m.Id)) problems.Add(ManifestFile, "id", $"'{m.Id}' must match {NamePattern()}");
        if (string.IsNullOrWhiteSpace(m.Version)) problems.Add(ManifestFile, "version", "is missing");
        if (string.IsNullOrWhiteSpace(m.Title)) problems.Add(ManifestFile, "title", "is missing");
        return m.Id;
    }

    private static List<VariantSection> CheckVariantList(ManifestDocument m, string directory, Problems problems)
    {
        if (m.Variants is not { Count: > 0 })
        {
            problems.Add(ManifestFile, "variants", "is missing or empty; a task needs at least one variant");
            return [];
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var valid = new List<VariantSection>();
        for (var i = 0; i < m.Variants.Count; i++)
        {
            var v = m.Variants[i];
            if (v is null) problems.Add(ManifestFile, $"variants[{i}]", "is empty");
            else if (string.IsNullOrWhiteSpace(v.Name)) problems.Add(ManifestFile, $"variants[{i}].name", "is missing");
            else if (!NamePattern().IsMatch(v.Name)) problems.Add(ManifestFile, $"variants[{i}].name", $"'{v.Name}' must match {NamePattern()}");
            else if (!seen.Add(v.Name)) problems.Add(ManifestFile, $"variants[{i}].name", $"'{v.Name}' is listed twice");
            else valid.Add(v);
        }
        if (m.DefaultVariant is not null && !seen.Contains(m.DefaultVariant))
            problems.Add(ManifestFile, "default_variant", $"'{m.DefaultVariant}' is not one of the variants ({string.Join(", ", seen)})");
        return valid;
    }

    private static TaskVariant? BuildVariant(ManifestDocument m, VariantSection v, string directory, string digest, string? family, string? layersRoot, Problems problems)
    {
        var name = v.Name!;
        var at = $"variants[{name}]";
        var instructions = ReadInstructions(v, at, directory, problems);
        // A Task Standard family brings its own entry point instead of score.py.
        var entryPoint = family is null ? "score.py" : family + ".py";
        var foldersOf = v.FoldersOf?.Trim();
        var source = v;
        if (foldersOf is { Length: > 0 })
        {
            source = m.Variants!.FirstOrDefault(o => o?.Name == foldersOf && o.Name != name && o.FoldersOf is null);
            if (source is null) problems.Add(ManifestFile, $"{at}.folders_of", $"'{foldersOf}' is not another variant with folders of its own");
            // folders_of takes the other variant's folders whole, its layers included; layers of its own would make them differ.
            if (v.Layers is { Count: > 0 }) problems.Add(ManifestFile, $"{at}.layers", "cannot go with folders_of, which takes the other variant's folders as they are");
        }
        var folders = source is null ? null : FindFolders(m, source, directory, entryPoint, layersRoot, problems);
        var resources = CheckResources(ResourcesSection.Merge(m.Resources, v.Overrides?.Resources), name, problems);
        var merged = ScoringSection.Merge(m.Scoring, v.Overrides?.Scoring);
        // The Task Standard's "no selection function" means the last score (rebench-spec 3.1, get_best_score).
        if (family is not null) merged.Aggregation ??= "last";
        var scoring = CheckScoring(merged, name, problems);
        if (v.Task is not null && family is null) problems.Add(ManifestFile, $"{at}.task", "is only for bundles of kind task_standard");
        if (scoring is not null && folders is not null)
            scoring = scoring with
            {
                ProtectedAgentFiles = CheckProtectedAgentFiles(merged.ProtectedAgentFiles, folders.Agent, name, problems),
                AgentReadable = CheckAgentReadable(merged.AgentReadable, folders.Scoring, directory, name, problems),
            };
        var envVars = v.Overrides?.RequiredEnvironmentVariables ?? m.RequiredEnvironmentVariables ?? [];
        foreach (var envVar in envVars.Where(e => !EnvVarPattern().IsMatch(e ?? "")))
            problems.Add(ManifestFile, $"required_environment_variables ({at})", $"'{envVar}' is not a valid environment variable name");
        var network = PermissionsSection.Merge(m.Permissions, v.Overrides?.Permissions).Network ?? false;
        var agentEnv = CheckAgentEnvironment(m, v, envVars, at, problems);

        if (instructions is null || folders is null || resources is null || scoring is null) return null;
        return new TaskVariant(m.Id!, name, m.Version!, m.Title!, instructions, digest, BundleDigest.Compute(folders.Scoring),
            folders, resources, network, envVars, scoring)
        {
            TaskStandard = family is null ? null : new TaskStandardTask(family, string.IsNullOrWhiteSpace(v.Task) ? name : v.Task),
            AgentEnvironmentVariables = agentEnv.Variables,
            AgentEnvironmentFile = agentEnv.File,
        };
    }

    /// <summary>
    /// agent_environment_variables: each one of the variant's required_environment_variables (the operator configures
    /// only those), listed once; agent_environment_file: a plain file name in the home, only with variables to hold.
    /// </summary>
    private static (IReadOnlyList<string> Variables, string? File) CheckAgentEnvironment(ManifestDocument m, VariantSection v,
        IReadOnlyList<string> required, string at, Problems problems)
    {
        var variables = v.Overrides?.AgentEnvironmentVariables ?? m.AgentEnvironmentVariables ?? [];
        var file = v.Overrides?.AgentEnvironmentFile ?? m.AgentEnvironmentFile;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in variables)
        {
            if (!EnvVarPattern().IsMatch(name ?? ""))
                problems.Add(ManifestFile, $"agent_environment_variables ({at})", $"'{name}' is not a valid environment variable name");
            else if (!required.Contains(name!))
                problems.Add(ManifestFile, $"agent_environment_variables ({at})", $"'{name}' is not one of the variant's required_environment_variables, which the operator configures");
            else if (!seen.Add(name!))
                problems.Add(ManifestFile, $"agent_environment_variables ({at})", $"'{name}' is listed twice");
        }
        if (file is not null)
        {
            if (file.Length is 0 or > 100 || file is "." or ".." || file.Contains('/') || file.Contains('\\') || file.Any(char.IsControl))
                problems.Add(ManifestFile, $"agent_environment_file ({at})", "must be a plain file name in the agent's home");
            else if (variables.Count == 0)
                problems.Add(ManifestFile, $"agent_environment_file ({at})", "needs agent_environment_variables to hold");
        }
        return (variables.Where(n => n is not null).Distinct(StringComparer.Ordinal).ToList(), string.IsNullOrEmpty(file) ? null : file);
    }

    /// <summary>Each listed path must be a plain relative path to a file of the variant's agent/ folder.</summary>
    private static IReadOnlyList<string> CheckProtectedAgentFiles(List<string>? paths, string agentDir, string variant, Problems problems)
    {
        foreach (var path in paths ?? [])
        {
            var parts = (path ?? "").Split('/');
            if (string.IsNullOrWhiteSpace(path) || path.StartsWith('/') || parts.Any(p => p is "" or "." or ".."))
                problems.Add(ManifestFile, $"scoring.protected_agent_files (variant {variant})", $"'{path}' must be a plain relative path");
            else if (!File.Exists(Path.Combine(agentDir, path)))
                problems.Add(ManifestFile, $"scoring.protected_agent_files (variant {variant})", $"'{path}' is not a file of the agent/ folder");
        }
        return paths ?? [];
    }

    /// <summary>
    /// Each agent_readable path must be a plain relative path to a file or folder of the variant's scoring/ folder or
    /// to one of its assets into the protected area, and never the platform's score log or state.
    /// </summary>
    private static IReadOnlyList<string> CheckAgentReadable(List<string>? paths, string scoringDir, string directory, string variant, Problems problems)
    {
        if (paths is null) return [];
        var field = $"scoring.agent_readable (variant {variant})";
        IReadOnlyList<AssetEntry> assets;
        try { assets = AssetManifest.Load(directory, variant); }
        catch (InvalidDataException) { assets = []; } // the asset check reports a broken assets.yaml
        var list = new List<string>();
        foreach (var raw in paths)
        {
            var path = (raw ?? "").TrimEnd('/');
            var parts = path.Split('/');
            if (string.IsNullOrWhiteSpace(path) || path.StartsWith('/') || parts.Any(p => p is "" or "." or ".."))
                problems.Add(ManifestFile, field, $"'{raw}' must be a plain relative path in the protected area");
            else if (parts[0] is "score.log" or ".rebench")
                problems.Add(ManifestFile, field, $"'{raw}' is the platform's own {parts[0]}, which the agent may never read");
            else if (!File.Exists(Path.Combine(scoringDir, path)) && !Directory.Exists(Path.Combine(scoringDir, path))
                     && !assets.Any(a => a.Into == "protected" && a.Path == path))
                problems.Add(ManifestFile, field, $"'{raw}' is neither a file or folder of {InBundle(directory, scoringDir, "scoring")}/ nor an asset into: protected of the variant");
            else list.Add(path);
        }
        return list;
    }

    private static string? ReadInstructions(VariantSection v, string at, string directory, Problems problems)
    {
        if (string.IsNullOrWhiteSpace(v.Instructions))
        {
            problems.Add(ManifestFile, $"{at}.instructions", "is missing");
            return null;
        }
        var path = Path.GetFullPath(Path.Combine(directory, v.Instructions));
        if (!path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            problems.Add(ManifestFile, $"{at}.instructions", $"'{v.Instructions}' points outside the bundle");
            return null;
        }
        if (!File.Exists(path))
        {
            problems.Add(v.Instructions, $"{at}.instructions", "names a file that is missing");
            return null;
        }
        var text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text)) problems.Add(v.Instructions, $"{at}.instructions", "names an empty file");
        return text;
    }

    /// <summary>
    /// variants/NAME/FOLDER when the variant has its own, else the bundle's shared FOLDER; either over the files of
    /// the task's and the variant's layers when they add to that folder.
    /// </summary>
    private static VariantFolders? FindFolders(ManifestDocument m, VariantSection section, string directory, string entryPoint, string? layersRoot, Problems problems)
    {
        var variant = section.Name!;
        var layers = ResolveLayers(m, section, directory, problems);
        string? Find(string folder)
        {
            var own = Path.Combine(directory, "variants", variant, folder);
            var shared = Path.Combine(directory, folder);
            return Compose(folder, Directory.Exists(own) ? own : Directory.Exists(shared) ? shared : null, layers, variant, layersRoot, problems);
        }
        var agent = Find("agent");
        var scoring = Find("scoring");
        var reference = Find("reference");

        var where = $"(variant {variant}; looked in variants/{variant}/ and the bundle root)";
        if (agent is null) problems.Add("agent/", "folder", $"is missing {where}");
        if (scoring is null) problems.Add("scoring/", "folder", $"is missing {where}");
        else if (!File.Exists(Path.Combine(scoring, entryPoint)))
            problems.Add(InBundle(directory, scoring, "scoring") + "/" + entryPoint, "file", $"is missing: the scorer of variant {variant}");
        if (reference is null) problems.Add("reference/", "folder", $"is missing {where}");
        else if (!BundleDigest.Files(reference).Any())
            problems.Add(InBundle(directory, reference, "reference") + "/", "folder", $"holds no reference solution files (variant {variant})");

        if (agent is null || scoring is null || reference is null) return null;
        return new VariantFolders(agent, scoring, reference);
    }

    /// <summary>A folder's name for a message: its path in the bundle, or "FOLDER (layered)" for a composed one.</summary>
    private static string InBundle(string directory, string folder, string name) =>
        folder.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? Path.GetRelativePath(directory, folder) : $"{name} (layered)";

    private static TaskResources? CheckResources(ResourcesSection r, string variant, Problems problems)
    {
        var before = problems.Items.Count;
        string Field(string f) => $"resources.{f} (variant {variant})";
        if (r.Cpus is not > 0) problems.Add(ManifestFile, Field("cpus"), r.Cpus is null ? "is missing" : $"is {r.Cpus}; it must be at least 1");
        if (r.MemoryMb is not > 0) problems.Add(ManifestFile, Field("memory_mb"), r.MemoryMb is null ? "is missing" : $"is {r.MemoryMb}; it must be at least 1");
        if (r.DiskMb is < 0) problems.Add(ManifestFile, Field("disk_mb"), $"is {r.DiskMb}; it must not be negative");
        var range = r.Gpu?.CountRange ?? [0, 0];
        if (range.Count != 2 || range[0] < 0 || range[0] > range[1])
            problems.Add(ManifestFile, Field("gpu.count_range"), $"[{string.Join(", ", range)}] must be [min, max] with 0 <= min <= max");
        else if (range[1] > 0 && string.IsNullOrWhiteSpace(r.Gpu?.Model))
            problems.Add(ManifestFile, Field("gpu.model"), "is missing; a task that uses GPUs must name their model");
        if (problems.Items.Count > before) return null;
        return new TaskResources(r.Cpus!.Value, r.MemoryMb!.Value, r.DiskMb ?? 0, range[0], range[1], r.Gpu?.Model);
    }

    private static ScoringRules? CheckScoring(ScoringSection s, string variant, Problems problems)
    {
        var before = problems.Items.Count;
        string Field(string f) => $"scoring.{f} (variant {variant})";
        const string Missing = "is missing (set it under scoring or the variant's overrides.scoring)";
        if (string.IsNullOrWhiteSpace(s.RawScore)) problems.Add(ManifestFile, Field("raw_score"), Missing);
        ScoreDirection? direction = s.Direction switch { "lower" => ScoreDirection.Lower, "higher" => ScoreDirection.Higher, _ => null };
        if (direction is null) problems.Add(ManifestFile, Field("direction"), s.Direction is null ? Missing : $"'{s.Direction}' is not lower or higher");
        AggregationRule? aggregation = s.Aggregation switch { "min" => AggregationRule.Min, "max" => AggregationRule.Max, "last" => AggregationRule.Last, _ => null };
        if (aggregation is null) problems.Add(ManifestFile, Field("aggregation"), s.Aggregation is null ? Missing : $"'{s.Aggregation}' is not min, max or last");
        CheckConstant(s.Start, Field("start"), Missing, problems);
        CheckConstant(s.Reference, Field("reference"), Missing, problems);
        if (s.Start is { } start && s.Reference is { } reference && double.IsFinite(start) && double.IsFinite(reference))
        {
            if (start == reference)
                problems.Add(ManifestFile, Field("reference"), $"equals scoring.start ({start}); normalization would divide by zero");
            else if (direction is { } d && (d == ScoreDirection.Lower ? reference > start : reference < start))
                problems.Add(ManifestFile, Field("reference"), $"{reference} is not better than start {start} for direction {s.Direction}");
        }
        if (string.IsNullOrWhiteSpace(s.MeasuredBy)) problems.Add(ManifestFile, Field("measured_by"), "is missing: say which command on which machine measured start and reference");
        if (s.ScorerTimeoutSeconds is < 1) problems.Add(ManifestFile, Field("scorer_timeout_seconds"), $"is {s.ScorerTimeoutSeconds}; it must be at least 1");
        if (s.Command is not null && string.IsNullOrWhiteSpace(s.Command)) problems.Add(ManifestFile, Field("command"), "is empty");
        if (s.Tolerance is { } tol && (!double.IsFinite(tol) || tol <= 0)) problems.Add(ManifestFile, Field("tolerance"), $"is {tol}; it must be a finite number above 0");
        if (problems.Items.Count > before) return null;

        return new ScoringRules(s.RawScore!, direction!.Value, aggregation!.Value, s.Start!.Value, s.Reference!.Value, s.MeasuredBy!,
            s.ScoreVisible ?? true, s.ScorerTimeoutSeconds ?? DefaultScorerTimeoutSeconds, s.CatchOutOfMemory ?? false,
            s.Command ?? DefaultScorerCommand) { Tolerance = s.Tolerance };
    }

    private static void CheckConstant(double? value, string field, string missing, Problems problems)
    {
        if (value is null) problems.Add(ManifestFile, field, missing);
        else if (!double.IsFinite(value.Value)) problems.Add(ManifestFile, field, $"is {value}; it must be a finite number");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(" on type '[^']*'")]
    private static partial Regex TypeName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvVarPattern();

    private sealed class Problems(string directory)
    {
        public List<BundleProblem> Items { get; } = [];

        /// <summary>Message: "BUNDLE/FILE: FIELD PROBLEM", with FILE relative to the bundle.</summary>
        public void Add(string file, string field, string problem)
        {
            var item = new BundleProblem(Path.Combine(directory, file), $"{Path.GetFileName(directory)}/{file}: {field} {problem}");
            // A variant with folders_of resolves the other variant's layers again; their problems are listed once.
            if (!Items.Contains(item)) Items.Add(item);
        }
    }
}
