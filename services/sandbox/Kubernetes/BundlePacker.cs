using k8s.Models;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Kubernetes;

/// <summary>
/// A task bundle directory as a ConfigMap (binaryData, keys f0, f1, ...) plus the key-to-path items that rebuild the
/// tree when the ConfigMap is mounted. ConfigMap keys cannot contain '/', hence the indirection.
/// </summary>
public sealed record PackedBundle(V1ConfigMap ConfigMap, IList<V1KeyToPath> Items, long Bytes);

public static class BundlePacker
{
    public static PackedBundle Pack(string? sourceDir, string configMapName, IDictionary<string, string> labels, long maxBytes, string field)
    {
        var data = new Dictionary<string, byte[]>();
        var items = new List<V1KeyToPath>();
        long total = 0;
        if (!string.IsNullOrEmpty(sourceDir))
        {
            if (!Path.IsPathFullyQualified(sourceDir)) throw SandboxException.Invalid($"{field} '{sourceDir}' is not an absolute path");
            if (!Directory.Exists(sourceDir)) throw SandboxException.Invalid($"{field} '{sourceDir}' is not an existing directory");
            foreach (var file in new DirectoryInfo(sourceDir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                         .OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                // Links cannot be represented in a ConfigMap, and following them could ship host files into the pod.
                if (file.LinkTarget is not null || IsUnderLink(sourceDir, file)) continue;
                total += file.Length;
                if (total > maxBytes)
                {
                    throw SandboxException.Precondition(
                        $"{field} holds more than {maxBytes} bytes; the Kubernetes driver delivers bundles as ConfigMaps (Sandbox:Kubernetes:MaxBundleBytes)");
                }
                var key = $"f{items.Count}";
                data[key] = File.ReadAllBytes(file.FullName);
                var executable = (file.UnixFileMode & UnixFileMode.UserExecute) != 0;
                items.Add(new V1KeyToPath { Key = key, Path = Path.GetRelativePath(sourceDir, file.FullName), Mode = executable ? 0b111_101_101 : 0b110_100_100 });
            }
        }
        var map = new V1ConfigMap
        {
            ApiVersion = "v1", Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = configMapName, Labels = labels },
            BinaryData = data,
        };
        return new PackedBundle(map, items, total);
    }

    private static bool IsUnderLink(string root, FileInfo file)
    {
        for (var dir = file.Directory; dir is not null && dir.FullName.Length > root.TrimEnd('/').Length; dir = dir.Parent)
        {
            if (dir.LinkTarget is not null) return true;
        }
        return false;
    }
}
