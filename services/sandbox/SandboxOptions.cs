namespace ReBench.Sandbox;

/// <summary>The "Sandbox" configuration section.</summary>
public sealed class SandboxOptions
{
    public string Root { get; set; } = "/tmp/rebench-sandbox";
    public int DefaultTimeoutSeconds { get; set; } = 600;
    public long DefaultMaxOutputBytes { get; set; } = 1024 * 1024;
    /// <summary>Upper bound for a request's max_output_bytes: the tail half is buffered in memory per stream.</summary>
    public long MaxOutputBytesLimit { get; set; } = 64L * 1024 * 1024;
    /// <summary>ReadFile's cap when the request gives none; matches the platform's 64 MiB gRPC message limit.</summary>
    public long DefaultReadBytes { get; set; } = 60L * 1024 * 1024;
    /// <summary>
    /// How long to keep reading output after bash exits: a background child that inherited stdout may keep the pipe
    /// open forever, and it is not the command's output anyway.
    /// </summary>
    public int OutputDrainMilliseconds { get; set; } = 500;
}
