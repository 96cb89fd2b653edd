using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ReBench.Scoring.Catalog;

/// <summary>
/// Layers (tasks/README.md, "Layers"): a variant's agent/, scoring/ and reference/ folders are its own (or the bundle
/// root's) files over the files its layers name, file by file, so a module several folders, variants or tasks use is
/// kept once. A folder without layer files is handed out as it is; a layered one is composed into a folder of its own
/// (under Scoring:LayersRoot, else <see cref="ComposedRoot"/>), because the sandbox and the scorer take one folder to copy.
/// </summary>
public static partial class BundleLoader
{
    /// <summary>Beside the bundles: files several bundles layer in ("_shared/..."), never a bundle itself.</summary>
    public const string SharedFolder = "_shared";

    private static readonly string[] LayerTargets = ["agent", "scoring", "reference"];

    /// <summary>
    /// This process's composed folders, named by their content, where Scoring:LayersRoot is not set. A fresh directory that only this process writes
    /// (CreateTempSubdirectory makes it unguessable and 0700), then opened for reading (0755): the sandbox copies
    /// from it, as it copies from the bundle itself.
    /// </summary>
    private static readonly Lazy<string> ComposedRootDir = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("rebench-layers-").FullName;
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return dir;
    });

    public static string ComposedRoot => ComposedRootDir.Value;

    /// <summary>Each composed folder with its files (relative path -> source), to lay it out again if it goes.</summary>
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> Composed = new(StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="folder"/>, laid out again first when it is a composed folder that lost files since the load
    /// (a /tmp cleaner removes what a long-running service has not touched for days); any other folder as it is.
    /// </summary>
    public static string EnsureLaidOut(string folder)
    {
        if (!Composed.TryGetValue(folder, out var files)) return folder;
        if (files.Keys.All(relative => File.Exists(Path.Combine(folder, relative)))) return folder;
        var staging = WriteStaging(files, Path.GetDirectoryName(folder)!);
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(staging, folder);
        }
        catch (IOException) when (Directory.Exists(folder)) { Directory.Delete(staging, recursive: true); } // a concurrent call won
        return folder;
    }

    /// <summary>A layer's files, resolved: the folder they go to (agent, scoring, reference), their path there, their source.</summary>
    private sealed record LayerFile(string Folder, string Relative, string Full, string Layer);

    /// <summary>
    /// The files of a bundle's "_shared/..." layers, as ("_shared/...", absolute path), so that the bundle digest
    /// covers what the bundle takes from beside it. Broken entries are reported where the variants resolve them.
    /// </summary>
    private static IEnumerable<(string Relative, string Full)> SharedLayerFiles(ManifestDocument m, string directory)
    {
        var layers = (m.Layers ?? []).Concat((m.Variants ?? []).SelectMany(v => v?.Layers ?? []));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var from = layer?.From ?? "";
            if (!from.StartsWith(SharedFolder + "/", StringComparison.Ordinal) || !IsPlainRelative(from)) continue;
            var full = Path.Combine(Path.GetDirectoryName(directory)!, from);
            IEnumerable<(string Relative, string Full)> files =
                File.Exists(full) ? [(from, full)]
                : Directory.Exists(full) ? BundleDigest.Files(full).Select(f => (from + "/" + f.Relative, f.Full))
                : [];
            foreach (var f in files.Where(f => seen.Add(f.Relative))) yield return f;
        }
    }

    /// <summary>The task-level layers, then the variant's, resolved to files; problems name each bad entry.</summary>
    private static List<LayerFile> ResolveLayers(ManifestDocument m, VariantSection v, string directory, Problems problems)
    {
        var files = new List<LayerFile>();
        var entries = (m.Layers ?? []).Select((l, i) => (Layer: l, Field: $"layers[{i}]"))
            .Concat((v.Layers ?? []).Select((l, i) => (Layer: l, Field: $"variants[{v.Name}].layers[{i}]")));
        foreach (var (layer, field) in entries)
        {
            if (layer is null) { problems.Add(ManifestFile, field, "is empty"); continue; }
            var from = layer.From ?? "";
            var into = (layer.Into ?? "").TrimEnd('/');
            if (!IsPlainRelative(from))
            {
                problems.Add(ManifestFile, $"{field}.from", $"'{Quote(from)}' must be a plain relative path (no '.', '..', empty or absolute parts) in the bundle or in {SharedFolder}/");
                continue;
            }
            if (!IsPlainRelative(into) || !LayerTargets.Contains(into.Split('/')[0]))
            {
                problems.Add(ManifestFile, $"{field}.into", $"'{Quote(into)}' must be agent, scoring or reference, optionally with a plain relative subfolder");
                continue;
            }
            if (layer.As is not null && (layer.As.Length == 0 || layer.As.Contains('/') || !IsPlainRelative(layer.As)))
            {
                problems.Add(ManifestFile, $"{field}.as", $"'{Quote(layer.As)}' must be a plain file name");
                continue;
            }
            var shared = from.StartsWith(SharedFolder + "/", StringComparison.Ordinal);
            var full = Path.Combine(shared ? Path.GetDirectoryName(directory)! : directory, from);
            var target = into.Split('/', 2);
            var prefix = target.Length > 1 ? target[1] + "/" : "";
            if (File.Exists(full))
                files.Add(new LayerFile(target[0], prefix + (layer.As ?? Path.GetFileName(full)), full, field));
            else if (Directory.Exists(full) && layer.As is null)
                files.AddRange(BundleDigest.Files(full).Select(f => new LayerFile(target[0], prefix + f.Relative, f.Full, field)));
            else if (Directory.Exists(full))
                problems.Add(ManifestFile, $"{field}.as", "is only for a layer that is one file; a folder keeps its files' names");
            else
                problems.Add(ManifestFile, $"{field}.from", shared
                    ? $"'{Quote(from)}' is missing: no such file or folder beside the bundles"
                    : $"'{Quote(from)}' is missing: no such file or folder in the bundle");
        }
        return files;
    }

    /// <summary>
    /// The folder a variant uses for <paramref name="folder"/>: <paramref name="own"/> itself when no layer adds to it,
    /// else a composed folder with the layers' files under <paramref name="own"/>'s (own files win). Two layers that
    /// give the same file are refused: which one the scorer gets would depend on their order.
    /// </summary>
    private static string? Compose(string folder, string? own, IEnumerable<LayerFile> layers, string variant, string? layersRoot, Problems problems)
    {
        var mine = layers.Where(l => l.Folder == folder).ToList();
        if (mine.Count == 0) return own;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in mine)
        {
            if (from.TryGetValue(l.Relative, out var other))
                problems.Add(ManifestFile, l.Layer, $"gives {folder}/{l.Relative} of variant {variant}, which {other} gives too");
            else { files[l.Relative] = l.Full; from[l.Relative] = l.Layer; }
        }
        if (own is not null)
            foreach (var (relative, full) in BundleDigest.Files(own)) files[relative] = full;
        return Materialize(files, layersRoot ?? ComposedRoot);
    }

    /// <summary>Copies the files (keeping their modes) into ROOT/&lt;hash of paths, modes, contents&gt;, once.</summary>
    private static string Materialize(IReadOnlyDictionary<string, string> files, string root)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (relative, full) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{relative}\0{(OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(full))}\0"));
            hash.AppendData(SHA256.HashData(File.ReadAllBytes(full)));
        }
        var target = Path.Combine(root, Convert.ToHexStringLower(hash.GetHashAndReset()));
        Composed[target] = new Dictionary<string, string>(files, StringComparer.Ordinal);
        if (Directory.Exists(target)) return target;

        var staging = WriteStaging(files, root);
        try { Directory.Move(staging, target); }
        catch (IOException) when (Directory.Exists(target)) { Directory.Delete(staging, recursive: true); } // a concurrent load won
        return target;
    }

    /// <summary>The files under a fresh staging name, renamed by the caller, so a half-written folder is never handed out.</summary>
    private static string WriteStaging(IReadOnlyDictionary<string, string> files, string root)
    {
        var staging = Path.Combine(root, ".staging-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        foreach (var (relative, full) in files)
        {
            var destination = Path.Combine(staging, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(full, destination); // keeps the mode, as the sandbox's copy does
        }
        return staging;
    }

    private static bool IsPlainRelative(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && path.Split('/').All(p => p is not ("" or "." or ".."));

    /// <summary>Enough of an author's value to find it, not a wall of text.</summary>
    private static string Quote(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
