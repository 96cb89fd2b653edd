// Sandbox isolation cost, all in one run: environment create+destroy and Exec of `true` through the gRPC API with
// Sandbox:Isolation=none and =namespaces (in-process service, in-memory transport), against a bare bash spawn, and Exec
// with namespaces but the system-call filter off (Sandbox:Seccomp=false), which prices the filter's helper. The
// variants are interleaved (one of each per iteration, in a shuffled order), so a change in machine load affects all rows alike.
// WriteFile and ReadFile of 4 KiB (the file path: resolve beneath the home, temp file, chown, rename) run the same way.
// The path-based write it replaced (check by path, then create/chown/rename by path; racy), measured with this bench
// built before the change, back to back with the openat2 one (2 CPUs, load 17-25), p50 ms none/namespaces:
// write 0.81/0.55 and 1.15/0.89 before, 0.68/0.41 and 0.50/0.30 after; read 0.24/0.16 and 0.19/0.11 before, 0.15/0.09
// and 0.12/0.07 after.
// Usage: dotnet run -c Release --project bench/SandboxBench [cycles] [execs]
//        dotnet run -c Release --project bench/SandboxBench -- scorer-priority [rounds]   (ScorerPriorityBench.cs)
if (args is ["scorer-priority", .. var rest])
{
    await ScorerPriorityBench.RunAsync(rest);
    return;
}
var cycles = args.Length > 0 ? int.Parse(args[0]) : 30;
var execs = args.Length > 1 ? int.Parse(args[1]) : 100;
var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
// WebApplicationFactory looks for the service's content root beside a test project; a console app names it here.
System.Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_REBENCH_SANDBOX", AppContext.BaseDirectory);

const string ReadPath = "bench/read.bin";
// Key -> (Sandbox:Isolation, Sandbox:Seccomp).
var modes = new Dictionary<string, (string Isolation, bool Seccomp)>
{
    ["none"] = ("none", true), ["namespaces"] = ("namespaces", true), ["namespaces-unfiltered"] = ("namespaces", false),
};
var factories = new List<WebApplicationFactory<SandboxEntryPoint>>();
var roots = new List<string>();
var clients = new Dictionary<string, Sandbox.SandboxClient>();
var envs = new Dictionary<string, string>();
foreach (var (mode, (isolation, seccomp)) in modes)
{
    var root = Path.Combine(Path.GetTempPath(), $"rebench-sandbox-bench-{mode}-{Guid.NewGuid():N}");
    roots.Add(root);
    var factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
    {
        b.UseSetting("Sandbox:Root", root);
        b.UseSetting("Sandbox:Isolation", isolation);
        b.UseSetting("Sandbox:Seccomp", seccomp.ToString());
        b.UseSetting("Logging:LogLevel:Default", "Warning");
    });
    factories.Add(factory);
    clients[mode] = new Sandbox.SandboxClient(TestPlatformKey.Channel(factory.Server.BaseAddress, factory.Server.CreateHandler()));
    envs[mode] = (await clients[mode].CreateEnvironmentAsync(new CreateEnvironmentRequest { TaskId = "bench" })).EnvironmentId;
    for (var i = 0; i < 5; i++) await ExecAsync(clients[mode], envs[mode]); // warm-up (the holder, JIT, the gRPC path)
    await clients[mode].WriteFileAsync(new WriteFileRequest { EnvironmentId = envs[mode], Path = ReadPath, Content = Payload.FourKiB });
    for (var i = 0; i < 5; i++) await WriteAsync(clients[mode], envs[mode]);
    for (var i = 0; i < 5; i++) await ReadAsync(clients[mode], envs[mode]);
}

var capped = new Resources { DiskMb = 1024, MemoryMb = 2048, Cpus = 1 };
var variants = new List<(string Name, int N, Func<Task> Run)>
{
    ("bare spawn: bash -c true", execs, BareSpawnAsync),
    ("Exec `true`, isolation none", execs, () => ExecAsync(clients["none"], envs["none"])),
    ("Exec `true`, isolation namespaces", execs, () => ExecAsync(clients["namespaces"], envs["namespaces"])),
    ("WriteFile 4 KiB, isolation none", execs, () => WriteAsync(clients["none"], envs["none"])),
    ("WriteFile 4 KiB, isolation namespaces", execs, () => WriteAsync(clients["namespaces"], envs["namespaces"])),
    ("ReadFile 4 KiB, isolation none", execs, () => ReadAsync(clients["none"], envs["none"])),
    ("ReadFile 4 KiB, isolation namespaces", execs, () => ReadAsync(clients["namespaces"], envs["namespaces"])),
    ("Exec `true`, namespaces, Sandbox:Seccomp=false", execs, () => ExecAsync(clients["namespaces-unfiltered"], envs["namespaces-unfiltered"])),
    ("create+destroy, isolation none", cycles, () => CycleAsync(clients["none"], null)),
    ("create+destroy, isolation namespaces", cycles, () => CycleAsync(clients["namespaces"], null)),
    ("create+destroy, isolation none, 1 GB disk cap", cycles, () => CycleAsync(clients["none"], capped)),
    ("create+destroy, isolation namespaces, 1 GB disk cap", cycles, () => CycleAsync(clients["namespaces"], capped)),
};
var samples = variants.Select(_ => new List<double>()).ToList();
var shuffle = new Random(14);
for (var i = 0; i < Math.Max(cycles, execs); i++)
{
    // In a shuffled order: in a fixed one, the variant that ran right after the Exec without isolation was seen to
    // pay several ms more than the others, whichever variant it was.
    var order = Enumerable.Range(0, variants.Count).ToArray();
    shuffle.Shuffle(order);
    foreach (var v in order)
    {
        if (i >= variants[v].N) continue;
        var sw = Stopwatch.StartNew();
        await variants[v].Run();
        samples[v].Add(sw.Elapsed.TotalMilliseconds);
    }
}
var rows = variants.Select((v, i) => (v.Name, Ms: samples[i].ToArray())).ToList();
foreach (var mode in modes.Keys) await clients[mode].DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = envs[mode] });
foreach (var f in factories) await f.DisposeAsync();
foreach (var root in roots)
{
    try { Directory.Delete(root, true); } catch (IOException) { }
}

var bare = P(rows[0].Ms, 50);
Console.WriteLine($"{"what",-52} {"n",5} {"p50 ms",9} {"p99 ms",9} {"p50 / bare spawn",17} {"p50 / isolation none",21}");
foreach (var (name, ms) in rows)
{
    var none = rows.FirstOrDefault(r => r.Name == name.Replace("namespaces", "none")).Ms;
    var vsNone = name.Contains("namespaces") && none is not null ? $"{P(ms, 50) / P(none, 50):F2}x" : "";
    Console.WriteLine($"{name,-52} {ms.Length,5} {P(ms, 50),9:F2} {P(ms, 99),9:F2} {P(ms, 50) / bare,16:F2}x {vsNone,21}");
}
Console.WriteLine($"machine: {System.Environment.ProcessorCount} CPUs, {System.Environment.OSVersion}; /proc/loadavg before: {loadBefore}, after: {File.ReadAllText("/proc/loadavg").Trim()}");

static async Task BareSpawnAsync()
{
    using var p = Process.Start(new ProcessStartInfo("/bin/bash", ["-c", "true"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    await p.WaitForExitAsync();
}

static async Task ExecAsync(Sandbox.SandboxClient client, string env)
{
    using var call = client.Exec(new ExecRequest { EnvironmentId = env, Command = "true" });
    await foreach (var e in call.ResponseStream.ReadAllAsync())
    {
        if (e.EventCase == ExecEvent.EventOneofCase.Exit && e.Exit.ExitCode != 0) throw new InvalidOperationException($"exit {e.Exit.ExitCode}");
    }
}

// A fresh name each time in a two-level directory (the common case: the parent exists, the file does not).
static async Task WriteAsync(Sandbox.SandboxClient client, string env)
{
    await client.WriteFileAsync(new WriteFileRequest { EnvironmentId = env, Path = $"bench/files/f{Interlocked.Increment(ref Counter.Value) % 1000}.bin", Content = Payload.FourKiB });
}

static async Task ReadAsync(Sandbox.SandboxClient client, string env)
{
    var read = await client.ReadFileAsync(new ReadFileRequest { EnvironmentId = env, Path = ReadPath });
    if (read.Size != 4096) throw new InvalidOperationException($"read {read.Size} bytes");
}

static async Task CycleAsync(Sandbox.SandboxClient client, Resources? resources)
{
    var env = await client.CreateEnvironmentAsync(new CreateEnvironmentRequest { TaskId = "bench", Resources = resources });
    await client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env.EnvironmentId });
}

static double P(double[] xs, int percentile)
{
    var sorted = xs.Order().ToArray();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

internal static class Counter
{
    public static long Value;
}

internal static class Payload
{
    public static readonly Google.Protobuf.ByteString FourKiB = Google.Protobuf.ByteString.CopyFrom(new byte[4096]);
}
