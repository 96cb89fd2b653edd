using System.Text.RegularExpressions;

namespace ReBench.Sandbox.Environments;

/// <summary>Syntax rules for environment ids and in-environment paths that hold for every driver.</summary>
public static partial class SandboxNames
{
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex SafeId();

    /// <summary>Ids become directory and resource names, so only a conservative character set is allowed.</summary>
    public static string CheckId(string id, string field = "environment_id")
    {
        if (!SafeId().IsMatch(id) || id.Contains(".."))
        {
            throw SandboxException.Invalid(
                $"{field} '{Printable(id)}' is not safe: use 1-128 letters, digits, '_', '-' or '.', not starting with '.' and without '..'");
        }
        return id;
    }

    /// <summary>
    /// Splits a path relative to an environment area into its components, refusing anything that could name a
    /// place outside it by its spelling alone (symlinks are the driver's job).
    /// </summary>
    public static string[] SplitRelative(string path, string field = "path")
    {
        if (path.Contains('\0')) throw SandboxException.Invalid($"{field} '{Printable(path)}' contains a NUL byte");
        if (path.StartsWith('/')) throw SandboxException.Invalid($"{field} '{path}' is absolute; give a path relative to the environment home");
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains("..")) throw SandboxException.Invalid($"{field} '{path}' has a '..' component");
        return parts;
    }

    public static string Printable(string s) => s.Replace("\0", "\\0");
}
