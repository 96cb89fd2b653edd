using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.Attempts;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Storage;

/// <summary>Streams an attempt's stored events in order; when following, keeps going until the attempt ends.</summary>
public sealed class AttemptEventReader(IDocumentStore store, TimeProvider time)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public async Task StreamAsync(Guid attemptId, long fromVersion, bool follow, IServerStreamWriter<AttemptEvent> output, CancellationToken ct)
    {
        var next = fromVersion;
        var serializer = store.Options.Serializer();
        var sawAny = false;
        while (true)
        {
            await using var session = store.QuerySession();
            var events = await session.Events.FetchStreamAsync(attemptId, token: ct);
            if (events.Count == 0 && !sawAny) throw new DomainRejection(RejectionKind.NotFound, $"attempt {attemptId} does not exist");
            sawAny = true;
            foreach (var e in events.Where(e => e.Version >= next))
            {
                await output.WriteAsync(new AttemptEvent
                {
                    AttemptId = attemptId.ToString(), Version = e.Version, EventType = e.EventTypeName,
                    RecordedAt = Timestamp.FromDateTimeOffset(e.Timestamp), DataJson = serializer.ToJson(e.Data), EventId = e.Id.ToString(),
                }, ct);
                next = e.Version + 1;
            }
            if (!follow) return;
            if (AttemptEvolver.Fold(events.Select(e => e.Data)).IsTerminal) return;
            await Task.Delay(PollInterval, time, ct);
        }
    }
}
