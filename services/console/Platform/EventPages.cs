using Grpc.Core;
using ReBench.Orchestrator.V1;
using ReBench.Replay;

namespace ReBench.WebConsole.Platform;

/// <summary>Paged reads of an attempt's events: a page stops the stream after its rows, so a 10,000-event attempt is never read whole for one screen.</summary>
public static class EventPages
{
    public const int PageSize = 500;

    /// <summary>Events from <paramref name="from"/> (1-based), at most <paramref name="max"/>; <c>More</c> when the stream had another.</summary>
    public static async Task<(List<ReplayEvent> Events, bool More)> ReadAsync(GatewayApi.Clients api, string attemptId, long from, int max, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var events = new List<ReplayEvent>(Math.Min(max, 1024));
        using var call = api.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId, FromVersion = from }, cancellationToken: cts.Token);
        try
        {
            await foreach (var e in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                if (events.Count == max)
                {
                    await cts.CancelAsync();
                    return (events, true);
                }
                events.Add(Convert(e));
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cts.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return (events, true);
        }
        return (events, false);
    }

    public static ReplayEvent Convert(AttemptEvent e) => ReplayEvent.Parse(e.Version, e.EventType, e.DataJson, e.RecordedAt?.ToDateTimeOffset());
}
