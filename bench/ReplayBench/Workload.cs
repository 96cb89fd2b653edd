using System.Diagnostics;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;

namespace ReBench.Bench;

/// <summary>
/// One long attempt written through <see cref="AttemptStore"/> (the orchestrator's own append path: chain links,
/// view, seal) in batches of one transaction each: scheduled, started, then repeating action requests/results,
/// model calls and scores, ended by a failure (and its seal) so the total is exact.
/// </summary>
public static class Workload
{
    private const int Batch = 2000;
    private static readonly string Stdout = string.Concat(Enumerable.Repeat("step 1234: loss 0.4321, tokens/s 98765\n", 5));
    private static readonly string Request = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 400) + "\"}]}";

    public static async Task<Guid> WriteAsync(CampaignStore campaigns, AttemptStore attempts, int total)
    {
        var t0 = DateTimeOffset.UtcNow;
        var campaignId = Guid.NewGuid();
        var scheduled = new AttemptScheduled(Guid.NewGuid(), campaignId, "bench", "cpu", "scripted", [], 0, TimeSpan.FromHours(8), "bench", t0);
        var id = scheduled.AttemptId;
        await campaigns.CreateAsync(new CampaignCreated(campaignId, "replaybench", [new("bench", "cpu")], [new("scripted", [])], 1,
            TimeSpan.FromHours(8), [id], null, "bench", t0), [scheduled], CancellationToken.None);
        var info = new AttemptDecider.StartInfo("env", "local", "node", "1", "b", "s", 1, 0, "max", true, "bench");
        await attempts.AppendAsync(id, s => AttemptDecider.Start(s, info, "bench", t0), CancellationToken.None);

        var sw = Stopwatch.StartNew();
        var written = 2; // scheduled + started
        var step = 0;
        // The last two are the failure and its seal.
        while (written < total - 2)
        {
            var n = Math.Min(Batch, total - 2 - written);
            var batch = new List<object>(n);
            while (batch.Count < n)
            {
                var at = t0.AddMilliseconds(written + batch.Count);
                var kind = step % 10;
                var stepId = $"s{step++}";
                if (kind < 6 && batch.Count + 2 <= n)
                {
                    batch.Add(new ActionRequested(id, stepId, "run", "python3 train.py --steps 10", null, null, 0, null, 60, "agent", at));
                    batch.Add(new ActionCompleted(id, stepId, 0, Stdout, "", false, 0, 1234, null, at));
                }
                else if (kind < 9 || batch.Count + 2 > n)
                {
                    batch.Add(new ModelCallCompleted(id, stepId, "fake", "model-1", 1200, 300, 0, 0, 0.0042, 850, Request, "{\"content\":\"ok\"}", at));
                }
                else
                {
                    batch.Add(new IntermediateScoreRecorded(id, stepId, true, 0.5, 0.25, "{}", "{}", null, true, written, at));
                }
            }
            await attempts.AppendAsync(id, _ => batch.ToArray(), CancellationToken.None);
            written += batch.Count;
        }
        var final = await attempts.AppendAsync(id, s => AttemptDecider.Fail(s, "benchmark end", DateTimeOffset.UtcNow), CancellationToken.None);
        Console.WriteLine($"wrote {final.Version:N0} events in {sw.Elapsed.TotalSeconds:0.0} s ({final.Version / sw.Elapsed.TotalSeconds:N0} events/s, batches of {Batch})");
        return id;
    }
}
