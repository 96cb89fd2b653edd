using System.Globalization;

namespace ReBench.Sandbox.Gpus;

/// <summary>
/// Parses the output of
/// <c>nvidia-smi --query-gpu=index,uuid,name,memory.total,driver_version --format=csv,noheader,nounits</c>:
/// one line per GPU, fields separated by ", ", memory in MiB.
/// </summary>
public static class NvidiaSmiParser
{
    public const string QueryArguments = "--query-gpu=index,uuid,name,memory.total,driver_version --format=csv,noheader,nounits";

    public sealed record Result(IReadOnlyList<GpuDevice> Devices, IReadOnlyList<string> Rejected);

    /// <summary>
    /// Keeps every well-formed line and reports the others with the reason: a GPU whose line cannot be read is simply
    /// never handed out, which is safe, while refusing the whole inventory would idle the healthy ones.
    /// </summary>
    public static Result Parse(string output)
    {
        var devices = new List<GpuDevice>();
        var rejected = new List<string>();
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith("No devices were found", StringComparison.OrdinalIgnoreCase)) continue;
            var problem = TryParseLine(line, out var device);
            if (problem is not null) rejected.Add($"'{line}': {problem}");
            else if (devices.Any(d => d.Index == device!.Index)) rejected.Add($"'{line}': index {device!.Index} repeated");
            else if (devices.Any(d => string.Equals(d.Uuid, device!.Uuid, StringComparison.OrdinalIgnoreCase))) rejected.Add($"'{line}': uuid {device!.Uuid} repeated");
            else devices.Add(device!);
        }
        return new Result(devices.OrderBy(d => d.Index).ToList(), rejected);
    }

    private static string? TryParseLine(string line, out GpuDevice? device)
    {
        device = null;
        var fields = line.Split(',').Select(f => f.Trim()).ToArray();
        if (fields.Length != 5) return $"expected 5 comma-separated fields, found {fields.Length}";
        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return $"index '{fields[0]}' is not a number";
        if (!fields[1].StartsWith("GPU-", StringComparison.Ordinal) || fields[1].Length < 10 || fields[1].Any(char.IsWhiteSpace))
        {
            return $"uuid '{fields[1]}' is not a GPU UUID";
        }
        if (fields[2].Length == 0 || fields[2].StartsWith('[')) return $"name '{fields[2]}' is missing";
        if (!long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var memory) || memory <= 0)
        {
            return $"memory.total '{fields[3]}' is not a positive number of MiB";
        }
        device = new GpuDevice(index, fields[1], fields[2], memory, fields[4]);
        return null;
    }
}
