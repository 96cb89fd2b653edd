namespace ReBench.EndToEnd.Tests;

internal static class Waits
{
    public static bool IsFinished(Attempt a) =>
        a.Status is AttemptStatus.Completed or AttemptStatus.Failed or AttemptStatus.Cancelled;

    public static async Task<IReadOnlyList<Attempt>> CampaignFinishedAsync(
        OrchestratorClients client, string campaignId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var list = await client.Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaignId, PageSize = 1000 });
            if (list.Attempts.Count > 0 && list.Attempts.All(IsFinished)) return list.Attempts;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"campaign {campaignId} not finished after {timeout}: " +
                                           string.Join(", ", list.Attempts.Select(a => $"{a.Agent.Name}={a.Status}")));
            await Task.Delay(300);
        }
    }

    public static async Task<List<AttemptEvent>> EventsAsync(OrchestratorClients client, string attemptId, long from = 1)
    {
        using var call = client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId, FromVersion = from });
        var events = new List<AttemptEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync()) events.Add(e);
        return events;
    }

    public static JsonElement Data(this AttemptEvent e) => JsonDocument.Parse(e.DataJson).RootElement;

    /// <summary>Reads a stored field whatever the serializer's casing.</summary>
    public static JsonElement Field(this AttemptEvent e, string name)
    {
        var d = e.Data();
        foreach (var p in d.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        throw new KeyNotFoundException($"{e.EventType} has no field {name}: {e.DataJson}");
    }
}
