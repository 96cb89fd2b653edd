using System.Net;
using System.Text;

namespace ReBench.Agents.Llm;

/// <summary>
/// Serves recorded response bodies instead of calling the provider, in order, while any are queued: a driver resumed
/// after a restart rebuilds its conversation by parsing its recorded answers through the same SDK as the live calls.
/// </summary>
public sealed class RecordedResponses : DelegatingHandler
{
    private readonly Queue<string> _queue = new();

    public int Remaining => _queue.Count;

    public void Enqueue(IEnumerable<string> bodies)
    {
        foreach (var b in bodies) _queue.Enqueue(b);
    }

    /// <summary>Set while one recorded answer is being served (CallAsync takes it from the queue first).</summary>
    internal string? Current { get; set; }

    internal string Take() => _queue.Dequeue();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (Current is not { } body) return base.SendAsync(request, ct);
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            RequestMessage = request,
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });
    }
}
