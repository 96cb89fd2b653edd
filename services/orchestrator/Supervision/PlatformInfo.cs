using System.Reflection;

namespace ReBench.Orchestrator.Supervision;

public static class PlatformInfo
{
    /// <summary>The build's informational version (SourceLink appends the git commit when the build has one).</summary>
    public static string Version { get; } =
        typeof(PlatformInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
