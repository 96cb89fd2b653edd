using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReBench.Bench;
using ReBench.InProcess;
using ReBench.Orchestrator.V1;
using ReBench.Testing;

// Platform overhead of one Act of `true` through the gateway, beside spawning `true` directly plus one committed
// PostgreSQL insert, measured interleaved in the same run (this machine is shared and noisy: compare ratios).
// The same Act on a second attempt of the same platform whose calls skip the session-credential check (ActPath's
// test-only gate) sets the check's cost: Act with the check minus Act without it.
// Usage: ActBench [iterations] [sandbox isolation: auto|namespaces|none]
var iterations = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 300;
var isolation = args.Length > 1 ? args[1] : null;
Console.WriteLine($"ActBench: {iterations} iterations, sandbox isolation {isolation ?? "default"}, PostgreSQL {TestEnv.PostgresConnectionString}");

await using var platform = await ActPath.StartAsync(traces: false, isolation, uncheckedAttempt: true);
await using var pg = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
await using (var cmd = pg.CreateCommand("create table if not exists public.bench_baseline(id bigserial primary key, payload jsonb not null)"))
    await cmd.ExecuteNonQueryAsync();

var attempt = platform.AttemptId.ToString();
var uncheckedAttempt = platform.UncheckedAttemptId!.Value.ToString();
var step = 0;
async Task Act()
{
    var r = await platform.Session.ActAsync(new ActRequest { AttemptId = attempt, StepId = $"b{++step}", Run = new RunCommand { Command = "true" } });
    if (r.ExitCode != 0) throw new InvalidOperationException($"Act failed: {r.ExitCode} {r.Error}");
}
async Task ActUnchecked()
{
    var r = await platform.UncheckedSession.ActAsync(new ActRequest { AttemptId = uncheckedAttempt, StepId = $"u{++step}", Run = new RunCommand { Command = "true" } });
    if (r.ExitCode != 0) throw new InvalidOperationException($"Act failed: {r.ExitCode} {r.Error}");
}
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

Report.Print(act, actUnchecked, baseline, exec);

// The check's own work on the Act path, alone and many times (the Act figures above are dominated by the machine's
// noise): hashing the presented credential, the cached hash's constant-time compare and the cached attempt's phase.
var credentials = platform.OrchestratorServices.GetRequiredService<ReBench.Orchestrator.Supervision.SessionCredentials>();
var store = platform.OrchestratorServices.GetRequiredService<ReBench.Orchestrator.Storage.AttemptStore>();
const int checks = 100_000;
for (var i = 0; i < 1000; i++) await credentials.MatchesAsync(platform.AttemptId, platform.Credential, default);
var started = Stopwatch.GetTimestamp();
for (var i = 0; i < checks; i++)
{
    if (!await credentials.MatchesAsync(platform.AttemptId, platform.Credential, default) || store.Known(platform.AttemptId) is not { IsTerminal: false })
        throw new InvalidOperationException("the credential check refused the attempt's own credential");
}
Console.WriteLine($"session-credential check alone (hash, compare, phase; {checks} times): " +
                  $"{Stopwatch.GetElapsedTime(started).TotalMicroseconds / checks:0.00} µs per call");
