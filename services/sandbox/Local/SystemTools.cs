namespace ReBench.Sandbox.Local;

/// <summary>
/// Absolute paths of the tools the service starts as root on an Exec's behalf. An Exec's environment comes from its
/// request (the agent-exec relay passes a scorer's variables on), so nothing that runs before the drop to the agent
/// user may look a program up on a PATH the request could set.
/// </summary>
internal static class SystemTools
{
    public const string SafePath = "/usr/sbin:/usr/bin:/sbin:/bin";

    public static string Setsid { get; } = Find("setsid");
    public static string Nsenter { get; } = Find("nsenter");
    public static string Setpriv { get; } = Find("setpriv");
    public static string Env { get; } = Find("env");

    private static string Find(string tool) =>
        SafePath.Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists) ?? tool; // absent: fails at start with its name
}
