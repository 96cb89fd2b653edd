using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace ReBench.Sandbox.Gpus;

/// <summary>The GPUs of this node, read once at start: from nvidia-smi, from a simulated list, or none.</summary>
public sealed class GpuInventory(string source, IReadOnlyList<GpuDevice> devices)
{
    /// <summary>Full names and memory of simulated models, as nvidia-smi reports them on real nodes.</summary>
    private static readonly Dictionary<string, (string Name, long MemoryMb)> KnownModels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["H100"] = ("NVIDIA H100 80GB HBM3", 81559),
        ["H200"] = ("NVIDIA H200", 143771),
        ["A100"] = ("NVIDIA A100-SXM4-80GB", 81920),
        ["L4"] = ("NVIDIA L4", 23034),
        ["A10G"] = ("NVIDIA A10G", 23028),
        ["V100"] = ("Tesla V100-SXM2-16GB", 16384),
    };

    public string Source { get; } = source;
    public IReadOnlyList<GpuDevice> Devices { get; } = devices;

    public static GpuInventory None { get; } = new("none", []);

    public static GpuInventory Load(GpuOptions options, ILogger logger)
    {
        switch (options.Source.Trim().ToLowerInvariant())
        {
            case "" or "none":
                return None;
            case "simulated":
                return new GpuInventory("simulated", Simulate(options.Simulated));
            case "nvidia-smi":
                var parsed = NvidiaSmiParser.Parse(RunNvidiaSmi(options.NvidiaSmiPath));
                foreach (var line in parsed.Rejected) logger.LogWarning("nvidia-smi line ignored: {Line}", line);
                logger.LogInformation("GPU inventory from nvidia-smi: {Count} devices", parsed.Devices.Count);
                return new GpuInventory("nvidia-smi", parsed.Devices);
            default:
                throw new InvalidOperationException($"Sandbox:Gpus:Source '{options.Source}' is not one of nvidia-smi, simulated, none");
        }
    }

    /// <summary>"H100:8" gives eight H100s with indices 0-7; further entries continue the numbering.</summary>
    public static IReadOnlyList<GpuDevice> Simulate(IEnumerable<string> entries)
    {
        var devices = new List<GpuDevice>();
        foreach (var entry in entries.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], out var count) || count is < 1 or > 1024)
            {
                throw new InvalidOperationException($"Sandbox:Gpus:Simulated entry '{entry}' is not MODEL:COUNT with 1 <= COUNT <= 1024");
            }
            var model = entry[..colon].Trim();
            var (name, memory) = KnownModels.TryGetValue(model, out var known) ? known : (model, 0L);
            for (var i = 0; i < count; i++)
            {
                var index = devices.Count;
                devices.Add(new GpuDevice(index, SimulatedUuid(index, name), name, memory, "simulated"));
            }
        }
        return devices;
    }

    /// <summary>Derived from index and name, so the same configuration gives the same UUIDs after a restart.</summary>
    private static string SimulatedUuid(int index, string name)
    {
        var h = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"rebench-simulated-gpu/{index}/{name}")));
        return $"GPU-{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..32]}";
    }

    private static string RunNvidiaSmi(string path)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in NvidiaSmiParser.QueryArguments.Split(' ')) info.ArgumentList.Add(arg);
        using var process = new Process { StartInfo = info };
        // Both pipes drained by the process's own readers: no task to block on, and neither pipe can fill and stall the tool.
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        if (!process.Start()) throw new InvalidOperationException($"could not start {path}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(true);
            throw new InvalidOperationException($"{path} did not answer within 60 s");
        }
        process.WaitForExit(); // after the timed wait: until both readers reached the end of their pipe
        var output = stdout.ToString();
        // nvidia-smi exits 6 ("no devices") on a node without GPUs; that is an empty inventory, not a failure.
        if (process.ExitCode != 0 && !output.Contains("No devices were found", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{path} exited with {process.ExitCode}: {stderr.ToString().Trim()} {output.Trim()}");
        }
        return output;
    }
}
