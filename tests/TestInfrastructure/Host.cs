using System.Diagnostics;
using System.Text;

namespace ReBench.Testing;

public sealed record HostResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Commands on the host, outside any sandbox (test setup and checks).</summary>
public static class Host
{
    public static HostResult Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = new Process { StartInfo = info };
        // stderr drained by the process's own reader (line by line) while stdout is read here byte-exact: no task to block on.
        var stderr = new StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.Start();
        p.BeginErrorReadLine();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit(); // also waits for the stderr reader to reach the end of its pipe
        return new HostResult(p.ExitCode, stdout, stderr.ToString());
    }

    /// <summary>Setup that must succeed: a failure stops the test with the tool's stderr.</summary>
    public static void MustRun(string tool, params string[] args)
    {
        var r = Run(tool, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
    }
}
