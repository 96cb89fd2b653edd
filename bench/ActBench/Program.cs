using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReBench.Bench;
using ReBench.InProcess;
using ReBench.Orchestrator.V1;
using ReBench.Testing;

// Platform overhead of one Act of `true` through the gateway, beside spawning `true` directly plus one committed
// PostgreSQL insert, measured interleaved in the same run (this machine is shared and noisy: compare ratios).
// The credentials' cost: the same Act on a second attempt whose calls skip the session-credential check (ActPath's
// test-only gate), on a second platform whose orchestrator and sandbox are built without the service token check
// (ActPath's bench-only switch), and on that platform's unchecked attempt: today's figure before both checks. All four
// are interleaved, so the checks' cost is read from one run; each check alone is also timed in microseconds.
// Usage: ActBench [iterations] [sandbox isolation: auto|namespaces|none]
var iterations = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 300;
var isolation = args.Length > 1 ? args[1] : null;
Console.WriteLine($"ActBench: {iterations} iterations, sandbox isolation {isolation ?? "default"}, PostgreSQL {TestEnv.PostgresConnectionString}");

await using var platform = await ActPath.StartAsync(traces: false, isolation, uncheckedAttempt: true);
await using var bare = await ActPath.StartAsync(traces: false, isolation, uncheckedAttempt: true, serviceTokenCheck: false);
await using var pg = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
await using (var cmd = pg.CreateCommand("create table if not exists public.bench_baseline(id bigserial primary key, payload jsonb not null)"))
    await cmd.ExecuteNonQueryAsync();

var step = 0;
async Task ActOn(AttemptSession.AttemptSessionClient session, Guid attempt)
{
    var r = await session.ActAsync(new ActRequest { AttemptId = attempt.ToString(), StepId = $"b{++step}", Run = new RunCommand { Command = "true" } });
    if (r.ExitCode != 0) throw new InvalidOperationException($"Act failed: {r.ExitCode} {r.Error}");
}
var paths = new (string Label, Func<Task> Act)[]
{
    ("Act `true` via gateway -> orchestrator -> sandbox (all checks)", () => ActOn(platform.Session, platform.AttemptId)),
    ("same Act without the session-credential check", () => ActOn(platform.UncheckedSession, platform.UncheckedAttemptId!.Value)),
    ("same Act, backends without the service token check", () => ActOn(bare.Session, bare.AttemptId)),
    ("same Act with neither check (before issue 16)", () => ActOn(bare.UncheckedSession, bare.UncheckedAttemptId!.Value)),
};
async Task Baseline()
{
    using (var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!) await p.WaitForExitAsync();
    await using var cmd = pg.CreateCommand("insert into public.bench_baseline(payload) values ('{\"step\":\"x\"}'::jsonb)");
    await cmd.ExecuteNonQueryAsync();
}

Task Exec() => platform.ExecDirectAsync("true");

for (var i = 0; i < 30; i++) { foreach (var p in paths) await p.Act(); await Baseline(); await Exec(); } // warm-up: JIT, connection pools, HTTP/2 streams

var acts = paths.Select(p => new ActSeries(p.Label, new List<double>(iterations))).ToList();
var baseline = new List<double>(iterations);
var exec = new List<double>(iterations);
for (var i = 1; i <= iterations; i++)
{
    for (var k = 0; k < paths.Length; k++)
    {
        var t = Stopwatch.GetTimestamp();
        await paths[k].Act();
        acts[k].Millis.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }
    var t0 = Stopwatch.GetTimestamp();
    await Baseline();
    baseline.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    t0 = Stopwatch.GetTimestamp();
    await Exec();
    exec.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    if (i % 100 == 0) Console.WriteLine($"  {i}/{iterations}");
}

// The session check's own work on the Act path, alone and many times (the Act figures are dominated by the machine's
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
var sessionCheckUs = Stopwatch.GetElapsedTime(started).TotalMicroseconds / checks;

Report.Print(acts, baseline, exec, await TokenCheck.MeasureAsync(), sessionCheckUs);
