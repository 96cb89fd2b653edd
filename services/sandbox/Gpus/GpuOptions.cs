namespace ReBench.Sandbox.Gpus;

/// <summary>The "Sandbox:Gpus" configuration section.</summary>
public sealed class GpuOptions
{
    /// <summary><c>nvidia-smi</c> (query the node), <c>simulated</c> (from <see cref="Simulated"/>) or <c>none</c>.</summary>
    public string Source { get; set; } = "none";

    /// <summary>Entries "MODEL:COUNT", e.g. "H100:8" or "H100:4,A100:4" (comma-separated or a configuration list).</summary>
    public IReadOnlyList<string> Simulated { get; set; } = [];

    public string NvidiaSmiPath { get; set; } = "nvidia-smi";

    /// <summary>Where allocations are persisted; empty = <c>&lt;Sandbox:Root&gt;/.gpu-allocations.json</c>.</summary>
    public string StateFile { get; set; } = "";

    /// <summary>A request above this is refused as absurd rather than checked against the inventory.</summary>
    public int MaxPerEnvironment { get; set; } = 64;

    /// <summary>How often allocations of environments that died without Destroy are released.</summary>
    public int ReconcileSeconds { get; set; } = 30;
}
