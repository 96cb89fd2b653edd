using System.Text.Json;

namespace ReBench.Sandbox.Gpus;

/// <summary>One environment this service created: the GPUs it holds and the resources it asked for.</summary>
public sealed record EnvironmentAllocation(string EnvironmentId, IReadOnlyList<string> GpuUuids, int Cpus, long MemoryMb);

/// <summary>
/// Allocations as one JSON file, replaced atomically (write beside, fsync, rename) on every change, so a service
/// that crashes at any point restarts with either the old or the new set and never hands out a held GPU twice.
/// </summary>
public sealed class AllocationStore(string path)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Path { get; } = path;

    public IReadOnlyList<EnvironmentAllocation> Load()
    {
        if (!File.Exists(Path)) return [];
        var text = File.ReadAllText(Path);
        return JsonSerializer.Deserialize<List<EnvironmentAllocation>>(text, Json)
            ?? throw new InvalidOperationException($"GPU allocation state {Path} is empty or not a list");
    }

    public void Save(IEnumerable<EnvironmentAllocation> allocations)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, allocations.OrderBy(a => a.EnvironmentId, StringComparer.Ordinal).ToList(), Json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
