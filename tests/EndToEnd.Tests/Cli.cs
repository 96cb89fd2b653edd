namespace ReBench.EndToEnd.Tests;

/// <summary>Runs the built `rebench` CLI (and other programs) as processes, as an auditor or operator would.</summary>
internal static class Cli
{
    /// <summary>The CLI built in the same configuration as these tests (scripts/test.sh builds the solution first).</summary>
    public static string Dll
    {
        get
        {
            var configuration = typeof(Cli).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
            var dll = Path.Combine(TestEnv.RepoRoot, "tools", "rebench", "bin", configuration, "net10.0", "rebench.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
            return dll;
        }
    }

    /// <summary>`dotnet rebench.dll --gateway ... --api-key KEY ARGS`: the arguments for the platform's gateway.</summary>
    public static string[] Args(PlatformProcesses platform, string apiKey, params string[] args) =>
        [Dll, "--gateway", $"http://127.0.0.1:{platform.Port("gateway")}", "--api-key", apiKey, .. args];

    /// <summary>`rebench ARGS` with <paramref name="apiKey"/>; exit code and stdout + stderr.</summary>
    public static Task<(int, string)> RebenchAsync(ITestOutputHelper output, PlatformProcesses platform, string apiKey, TimeSpan limit, params string[] args) =>
        RunAsync(output, limit, "dotnet", Args(platform, apiKey, args));

    /// <summary>Runs a program to its end (at most <paramref name="limit"/>); exit code and stdout + stderr, logged to the test output.</summary>
    public static async Task<(int, string)> RunAsync(ITestOutputHelper output, TimeSpan limit, string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A command that does not end (e.g. a watch that never returns) must not outlive the test.
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"rebench {string.Join(' ', args.Skip(1))} did not end within {limit.TotalSeconds} s");
        }
        var text = await stdout + await stderr;
        output.WriteLine($"$ {Path.GetFileName(file)} {string.Join(' ', args)}\n{text}(exit {p.ExitCode})");
        return (p.ExitCode, text);
    }
}
