using System.Text.Json;

/// <summary>
/// Does scorer CPU priority steady a timed score? The kernel task's real CPU scorer times its reference solution in an
/// isolated environment (2 CPUs, as the task asks), with Sandbox:ScoringCpuWeight 10000 and 0, quiet and under load:
/// the agent's own background busy loops in its environment plus as many busy loops on the host as it has CPUs
/// (another tenant). Conditions are interleaved per round, so the quiet baseline is measured in the same run.
/// Usage: dotnet run -c Release --project bench/SandboxBench -- scorer-priority [rounds]
/// </summary>
internal static class ScorerPriorityBench
{
    public static async Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
        var repo = FindRepo();
        var task = Path.Combine(repo, "tasks", "ai_rd_triton_cumsum");
        var loadBefore = (await File.ReadAllTextAsync("/proc/loadavg")).Trim();
        System.Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_REBENCH_SANDBOX", AppContext.BaseDirectory);
        var agentFiles = Directory.CreateTempSubdirectory("rebench-bench-agent-").FullName;
        File.Copy(Path.Combine(task, "reference", "solution.py"), Path.Combine(agentFiles, "solution.py"));

        var services = new List<(string Name, WebApplicationFactory<SandboxEntryPoint> Factory, Sandbox.SandboxClient Client, string Env, string Root)>();
        foreach (var (name, weight) in new[] { ("priority on (weight 10000)", 10000), ("priority off (weight 0)", 0) })
        {
            var root = Path.Combine(Path.GetTempPath(), $"rebench-sandbox-bench-prio-{weight}-{Guid.NewGuid():N}");
            var factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
            {
                b.UseSetting("Sandbox:Root", root);
                b.UseSetting("Sandbox:Isolation", "namespaces");
                b.UseSetting("Sandbox:ScoringCpuWeight", weight.ToString());
                b.UseSetting("Logging:LogLevel:Default", "Warning");
            });
            var client = new Sandbox.SandboxClient(TestPlatformKey.Channel(factory.Server.BaseAddress, factory.Server.CreateHandler()));
            var env = (await client.CreateEnvironmentAsync(new CreateEnvironmentRequest
            {
                TaskId = "bench", AgentFilesDir = agentFiles, ProtectedFilesDir = Path.Combine(task, "scoring"),
                Resources = new Resources { Cpus = 2, MemoryMb = 2048 },
            })).EnvironmentId;
            await ScoreAsync(client, env); // warm-up: page cache, the holder
            services.Add((name, factory, client, env, root));
        }

        var samples = new Dictionary<(string, bool), List<double>>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var loaded in new[] { false, true })
            {
                foreach (var s in services)
                {
                    List<Process> host = [];
                    if (loaded)
                    {
                        // The agent leaves two busy loops behind in its environment; the host runs one per CPU.
                        await Run(s.Client, s.Env, "for i in 1 2; do (exec -a rebench-bench-spin sh -c 'while :; do :; done') >/dev/null 2>&1 & done", asScorer: false);
                        host = Enumerable.Range(0, System.Environment.ProcessorCount)
                            .Select(_ => Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]))!).ToList();
                        await Task.Delay(300);
                    }
                    try
                    {
                        var ms = await ScoreAsync(s.Client, s.Env);
                        if (!samples.TryGetValue((s.Name, loaded), out var list)) samples[(s.Name, loaded)] = list = [];
                        list.Add(ms);
                        await Console.Error.WriteLineAsync($"round {round + 1}/{rounds} {s.Name,-28} {(loaded ? "loaded" : "quiet "),-6} {ms,8:F2} ms");
                    }
                    finally
                    {
                        foreach (var p in host) { p.Kill(); await p.WaitForExitAsync(); p.Dispose(); }
                        if (loaded) await Run(s.Client, s.Env, "pkill -f rebench-bench-spin; true", asScorer: false);
                    }
                }
            }
        }

        foreach (var s in services)
        {
            await s.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = s.Env });
            await s.Factory.DisposeAsync();
            try { Directory.Delete(s.Root, true); } catch (IOException) { }
        }
        Directory.Delete(agentFiles, true);

        Console.WriteLine("Kernel task (cpu variant) reference solution timed by its scorer, as a scorer run, 2-CPU environment;");
        Console.WriteLine("load = 2 busy loops of the agent in its environment + one busy loop per host CPU outside any sandbox.");
        Console.WriteLine($"{"scorer",-28} {"quiet p50 ms",13} {"loaded p50 ms",14} {"loaded / quiet",15} {"normalized (start 6.9437, ref 2.0235)",39}");
        foreach (var s in services)
        {
            var quiet = Median(samples[(s.Name, false)]);
            var loaded = Median(samples[(s.Name, true)]);
            var normalized = (6.9437 - Math.Log(loaded)) / (6.9437 - 2.0235);
            Console.WriteLine($"{s.Name,-28} {quiet,13:F2} {loaded,14:F2} {loaded / quiet,14:F2}x {normalized,39:F3}");
        }
        Console.WriteLine($"rounds: {rounds}; machine: {System.Environment.ProcessorCount} CPUs; /proc/loadavg before: {loadBefore}, after: {(await File.ReadAllTextAsync("/proc/loadavg")).Trim()}");
    }

    private static async Task<double> ScoreAsync(Sandbox.SandboxClient client, string env)
    {
        var (code, stdout, stderr) = await Run(client, env, "cd \"$REBENCH_PROTECTED\" && /usr/bin/python3 score.py \"$HOME/solution.py\"", asScorer: true);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"scorer printed nothing (exit {code}): {stderr}");
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("details").GetProperty("time_ms").GetDouble();
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(Sandbox.SandboxClient client, string env, string command, bool asScorer)
    {
        var (stdout, stderr, code) = (new MemoryStream(), new MemoryStream(), -1);
        using var call = client.Exec(new ExecRequest { EnvironmentId = env, Command = command, AsScorer = asScorer, TimeoutSeconds = 120 });
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == ExecEvent.EventOneofCase.Stdout) e.Stdout.WriteTo(stdout);
            else if (e.EventCase == ExecEvent.EventOneofCase.Stderr) e.Stderr.WriteTo(stderr);
            else if (e.EventCase == ExecEvent.EventOneofCase.Exit) code = e.Exit.ExitCode;
        }
        return (code, System.Text.Encoding.UTF8.GetString(stdout.ToArray()), System.Text.Encoding.UTF8.GetString(stderr.ToArray()));
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "RE-Bench.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("run from inside the repository (RE-Bench.sln not found above the binary)");
    }
}
