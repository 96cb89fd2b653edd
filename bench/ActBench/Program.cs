using System.Diagnostics;
using Npgsql;
using ReBench.Bench;
using ReBench.InProcess;
using ReBench.Orchestrator.V1;
using ReBench.Testing;

// Platform overhead of one Act of `true` through the gateway, beside spawning `true` directly plus one committed
// PostgreSQL insert, measured interleaved in the same run (this machine is shared and noisy: compare ratios). The
// same Act also runs on a second path whose orchestrator and sandbox are built without the service token check
// (ActPath's bench-only switch), interleaved with the first, so the check's cost is read from one run; and the check
// alone (PlatformTokenValidator on a remembered and on a new token) is timed in microseconds.
// Usage: ActBench [iterations] [sandbox isolation: auto|namespaces|none]
var iterations = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 300;
var isolation = args.Length > 1 ? args[1] : null;
Console.WriteLine($"ActBench: {iterations} iterations, sandbox isolation {isolation ?? "default"}, PostgreSQL {TestEnv.PostgresConnectionString}");

await using var platform = await ActPath.StartAsync(traces: false, isolation);
await using var unchecked_ = await ActPath.StartAsync(traces: false, isolation, serviceTokenCheck: false);
await using var pg = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
await using (var cmd = pg.CreateCommand("create table if not exists public.bench_baseline(id bigserial primary key, payload jsonb not null)"))
    await cmd.ExecuteNonQueryAsync();

var step = 0;
async Task ActOn(ActPath path)
{
    var r = await path.Session.ActAsync(new ActRequest { AttemptId = path.AttemptId.ToString(), StepId = $"b{++step}", Run = new RunCommand { Command = "true" } });
    if (r.ExitCode != 0) throw new InvalidOperationException($"Act failed: {r.ExitCode} {r.Error}");
}
Task Act() => ActOn(platform);
Task ActUnchecked() => ActOn(unchecked_);
async Task Baseline()
{
    using (var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!) await p.WaitForExitAsync();
    await using var cmd = pg.CreateCommand("insert into public.bench_baseline(payload) values ('{\"step\":\"x\"}'::jsonb)");
    await cmd.ExecuteNonQueryAsync();
}

Task Exec() => platform.ExecDirectAsync("true");

for (var i = 0; i < 30; i++) { await Act(); await ActUnchecked(); await Baseline(); await Exec(); } // warm-up: JIT, connection pools, HTTP/2 streams

var act = new List<double>(iterations);
var actUnchecked = new List<double>(iterations);
var baseline = new List<double>(iterations);
var exec = new List<double>(iterations);
for (var i = 1; i <= iterations; i++)
{
    var t = Stopwatch.GetTimestamp();
    await Act();
    act.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    t = Stopwatch.GetTimestamp();
    await ActUnchecked();
    actUnchecked.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    t = Stopwatch.GetTimestamp();
    await Baseline();
    baseline.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    t = Stopwatch.GetTimestamp();
    await Exec();
    exec.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    if (i % 100 == 0) Console.WriteLine($"  {i}/{iterations}");
}

Report.Print(act, baseline, exec, actUnchecked, await TokenCheck.MeasureAsync());
