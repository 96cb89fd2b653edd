extern alias SandboxService;

using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using ReBench.Sandbox.V1;
using SandboxEntryPoint = SandboxService::ReBench.Sandbox.SandboxEntryPoint;

// Sandbox isolation cost, all in one run: environment create+destroy and Exec of `true` through the gRPC API with
// Sandbox:Isolation=none and =namespaces (in-process service, in-memory transport), against a bare bash spawn.
// Usage: dotnet run -c Release --project bench/SandboxBench [cycles] [execs]
var cycles = args.Length > 0 ? int.Parse(args[0]) : 30;
var execs = args.Length > 1 ? int.Parse(args[1]) : 100;
var rows = new List<(string Name, double[] Ms)>();
// WebApplicationFactory looks for the service's content root beside a test project; a console app names it here.
System.Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_REBENCH_SANDBOX", AppContext.BaseDirectory);

rows.Add(("bare spawn: bash -c true", Measure(execs, () =>
{
    using var p = Process.Start(new ProcessStartInfo("/bin/bash", ["-c", "true"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    p.WaitForExit();
    return Task.CompletedTask;
})));
foreach (var mode in new[] { "none", "namespaces" })
{
    var root = Path.Combine(Path.GetTempPath(), $"rebench-sandbox-bench-{mode}-{Guid.NewGuid():N}");
    await using var factory = new WebApplicationFactory<SandboxEntryPoint>().WithWebHostBuilder(b =>
    {
        b.UseSetting("Sandbox:Root", root);
        b.UseSetting("Sandbox:Isolation", mode);
        b.UseSetting("Logging:LogLevel:Default", "Warning");
    });
    var client = new Sandbox.SandboxClient(GrpcChannel.ForAddress(factory.Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() }));

    var env = (await client.CreateEnvironmentAsync(new CreateEnvironmentRequest { TaskId = "bench" })).EnvironmentId;
    for (var i = 0; i < 5; i++) await ExecAsync(client, env); // warm-up (the holder, JIT, the gRPC path)
    rows.Add(($"Exec `true`, isolation {mode}", await MeasureAsync(execs, () => ExecAsync(client, env))));
    await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });

    rows.Add(($"create+destroy, isolation {mode}", await MeasureAsync(cycles, () => CycleAsync(client, null))));
    var capped = new Resources { DiskMb = 1024, MemoryMb = 2048, Cpus = 1 };
    rows.Add(($"create+destroy, isolation {mode}, 1 GB disk cap", await MeasureAsync(cycles, () => CycleAsync(client, capped))));
    try { Directory.Delete(root, true); } catch (IOException) { }
}

var bare = P(rows[0].Ms, 50);
Console.WriteLine($"{"what",-48} {"n",5} {"p50 ms",9} {"p99 ms",9} {"p50 / bare spawn",17} {"p50 / isolation none",21}");
foreach (var (name, ms) in rows)
{
    var none = rows.FirstOrDefault(r => r.Name == name.Replace("namespaces", "none")).Ms;
    var vsNone = name.Contains("namespaces") && none is not null ? $"{P(ms, 50) / P(none, 50):F2}x" : "";
    Console.WriteLine($"{name,-48} {ms.Length,5} {P(ms, 50),9:F2} {P(ms, 99),9:F2} {P(ms, 50) / bare,16:F2}x {vsNone,21}");
}
Console.WriteLine($"machine: {System.Environment.ProcessorCount} CPUs, {System.Environment.OSVersion}, load average {File.ReadAllText("/proc/loadavg").Trim()}");

static async Task ExecAsync(Sandbox.SandboxClient client, string env)
{
    using var call = client.Exec(new ExecRequest { EnvironmentId = env, Command = "true" });
    await foreach (var e in call.ResponseStream.ReadAllAsync())
    {
        if (e.EventCase == ExecEvent.EventOneofCase.Exit && e.Exit.ExitCode != 0) throw new InvalidOperationException($"exit {e.Exit.ExitCode}");
    }
}

static async Task CycleAsync(Sandbox.SandboxClient client, Resources? resources)
{
    var env = await client.CreateEnvironmentAsync(new CreateEnvironmentRequest { TaskId = "bench", Resources = resources });
    await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env.EnvironmentId });
}

static double[] Measure(int n, Func<Task> run) => MeasureAsync(n, run).GetAwaiter().GetResult();

static async Task<double[]> MeasureAsync(int n, Func<Task> run)
{
    var ms = new double[n];
    for (var i = 0; i < n; i++)
    {
        var sw = Stopwatch.StartNew();
        await run();
        ms[i] = sw.Elapsed.TotalMilliseconds;
    }
    return ms;
}

static double P(double[] xs, int percentile)
{
    var sorted = xs.Order().ToArray();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
