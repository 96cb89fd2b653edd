namespace ReBench.Sandbox.Gpus;

/// <param name="Index">nvidia-smi's index (PCI bus order).</param>
/// <param name="Uuid">Stable across reboots and enumeration orders, unlike the index; what environments are given.</param>
/// <param name="Name">The full product name, e.g. "NVIDIA H100 80GB HBM3".</param>
public sealed record GpuDevice(int Index, string Uuid, string Name, long MemoryMb, string DriverVersion)
{
    private static readonly string[] VendorPrefixes = ["NVIDIA ", "Tesla ", "GeForce ", "Quadro "];
    private static readonly string[] Families = ["RTX", "GTX", "TITAN"];

    /// <summary>The short model requests name, e.g. "H100" for "NVIDIA H100 80GB HBM3", "A100" for "NVIDIA A100-SXM4-80GB".</summary>
    public string Model { get; } = ShortModel(Name);

    /// <summary>A request's gpu_model names this device by its short model or its full name, with or without "NVIDIA ".</summary>
    public bool Matches(string requested) =>
        string.Equals(requested, Model, StringComparison.OrdinalIgnoreCase)
        || string.Equals(requested, Name, StringComparison.OrdinalIgnoreCase)
        || string.Equals(requested, StripVendor(Name), StringComparison.OrdinalIgnoreCase);

    public static string ShortModel(string name)
    {
        var tokens = StripVendor(name).Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0) return name;
        // "RTX 4090", "RTX A6000": the family word alone would lump unrelated cards together.
        return Families.Contains(tokens[0], StringComparer.OrdinalIgnoreCase) && tokens.Length > 1 ? $"{tokens[0]} {tokens[1]}" : tokens[0];
    }

    private static string StripVendor(string name)
    {
        var rest = name.Trim();
        foreach (var prefix in VendorPrefixes)
        {
            if (rest.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) rest = rest[prefix.Length..].TrimStart();
        }
        return rest;
    }
}
