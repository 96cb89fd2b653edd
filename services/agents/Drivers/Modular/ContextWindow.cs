using System.Text.Json;
using Microsoft.Extensions.AI;

namespace ReBench.Agents.Drivers.Modular;

/// <summary>
/// The conversation kept within a context budget. The system prompt and the task's instructions stay; when the estimate
/// goes over the budget the oldest turns (an assistant message with the tool results and notes after it) are dropped
/// for good, and when even the latest turn alone is too large its long texts are cut to head and tail. Tokens are
/// estimated at 4 characters each, which errs large for code and English.
/// </summary>
public sealed class ContextWindow(ChatMessage system, ChatMessage instructions, int maxContextTokens, int reserveForOutput)
{
    private const int CharsPerToken = 4;
    private const int PerMessageOverhead = 8;
    private readonly List<ChatMessage> _history = [];

    public int DroppedMessages { get; private set; }
    public int Budget => Math.Max(maxContextTokens / 4, maxContextTokens - reserveForOutput);

    public void Add(IEnumerable<ChatMessage> messages) => _history.AddRange(messages);
    public void Add(ChatMessage message) => _history.Add(message);

    /// <summary>The messages for the next request, after dropping and cutting what does not fit.</summary>
    public List<ChatMessage> ForRequest()
    {
        var groups = Groups();
        var pinned = Estimate(system) + Estimate(instructions) + 40;
        var total = pinned + groups.Sum(g => g.Sum(Estimate));
        var drop = 0;
        while (total > Budget && drop < groups.Count - 1)
        {
            total -= groups[drop].Sum(Estimate);
            drop++;
        }
        if (drop > 0)
        {
            var removed = groups.Take(drop).Sum(g => g.Count);
            _history.RemoveRange(0, removed);
            DroppedMessages += removed;
        }
        if (total > Budget) ShrinkHistory(pinned);

        var first = instructions;
        if (DroppedMessages > 0)
        {
            first = instructions.Clone();
            first.Contents = [.. instructions.Contents, new TextContent(
                $"[{DroppedMessages} earlier messages were dropped to keep the conversation within the context window.]")];
        }
        return [system, first, .. _history];
    }

    private List<List<ChatMessage>> Groups()
    {
        var groups = new List<List<ChatMessage>>();
        foreach (var m in _history)
        {
            if (groups.Count == 0 || m.Role == ChatRole.Assistant) groups.Add([]);
            groups[^1].Add(m);
        }
        return groups;
    }

    /// <summary>Cuts every long text left so that the whole fits: each content gets an equal share of what remains.</summary>
    private void ShrinkHistory(int pinned)
    {
        var contents = _history.Sum(m => m.Contents.Count);
        var share = Math.Max(200, (Budget - pinned) * CharsPerToken / Math.Max(1, contents));
        for (var i = 0; i < _history.Count; i++)
        {
            var m = _history[i];
            var shrunk = m.Clone();
            shrunk.Contents = [.. m.Contents.Select(c => Shrink(c, share))];
            _history[i] = shrunk;
        }
    }

    private static AIContent Shrink(AIContent c, int maxChars) => c switch
    {
        TextContent t when t.Text.Length > maxChars => new TextContent(OutputFormat.HeadTail(t.Text, maxChars, (maxChars / 2) - 40)),
        FunctionResultContent r when (r.Result?.ToString() ?? "").Length > maxChars =>
            new FunctionResultContent(r.CallId, OutputFormat.HeadTail(r.Result!.ToString()!, maxChars, (maxChars / 2) - 40)),
        _ => c,
    };

    public static int Estimate(ChatMessage m) => PerMessageOverhead + (m.Contents.Sum(Length) / CharsPerToken);

    private static int Length(AIContent c) => c switch
    {
        TextContent t => t.Text.Length,
        FunctionCallContent f => f.Name.Length + (f.Arguments is null ? 0 : JsonSerializer.Serialize(f.Arguments).Length),
        FunctionResultContent r => r.Result?.ToString()?.Length ?? 0,
        _ => 100,
    };
}
