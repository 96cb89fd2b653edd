using System.Diagnostics;

namespace ReBench.Testing;

public sealed record HostResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Commands on the host, outside any sandbox (test setup and checks).</summary>
public static class Host
{
    public static HostResult Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return new HostResult(p.ExitCode, stdout.Result, stderr);
    }

    /// <summary>Setup that must succeed: a failure stops the test with the tool's stderr.</summary>
    public static void MustRun(string tool, params string[] args)
    {
        var r = Run(tool, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
    }
}
