using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

internal static class Progress
{
    /// <summary>Polls the campaign, printing a line whenever its progress changes, then prints its attempts.</summary>
    public static async Task<IReadOnlyList<Attempt>> WatchAsync(PlatformClient client, string campaignId, TextWriter w, CancellationToken ct)
    {
        // An unknown campaign has no attempts, which the loop below would wait on for ever: ask for it first (NOT_FOUND: exit 4).
        await client.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = campaignId }, cancellationToken: ct);
        var started = DateTimeOffset.UtcNow;
        var last = "";
        IReadOnlyList<Attempt> attempts;
        while (true)
        {
            attempts = await Paging.AllAttemptsAsync(client.Attempts, new ListAttemptsRequest { CampaignId = campaignId }, ct);
            var counts = attempts.GroupBy(a => a.Status).ToDictionary(g => g.Key, g => g.Count());
            int Count(AttemptStatus s) => counts.GetValueOrDefault(s);
            var finished = Count(AttemptStatus.Completed) + Count(AttemptStatus.Failed) + Count(AttemptStatus.Cancelled);
            var actions = attempts.Sum(a => a.ActionCount);
            var scores = attempts.Sum(a => a.ScoreCount);
            var line = $"{finished}/{attempts.Count} finished | running {Count(AttemptStatus.Running)}, scheduled {Count(AttemptStatus.Scheduled)}, " +
                       $"failed {Count(AttemptStatus.Failed)} | {actions} actions, {scores} scores";
            if (line != last)
            {
                await w.WriteLineAsync($"[{(DateTimeOffset.UtcNow - started).TotalSeconds,6:0.0}s] {line}");
                last = line;
            }
            if (attempts.Count > 0 && finished == attempts.Count) break;
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
        await w.WriteLineAsync();
        Output.AttemptTable(w, attempts);
        return attempts;
    }
}
