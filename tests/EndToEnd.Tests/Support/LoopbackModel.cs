namespace ReBench.EndToEnd.Tests;

/// <summary>
/// An OpenAI-compatible chat-completions server on loopback (where the agents service's provider "scripted" points):
/// request n gets <see cref="Answer"/>'s status and JSON body, or is held unanswered until the server stops. The
/// scripted models of the agent tests differ only in that answer.
/// </summary>
internal abstract class LoopbackModel : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _concurrent;
    private int _next;

    /// <param name="concurrent">Each request on a task of its own (needed where a held request must not block the next).</param>
    protected LoopbackModel(int port, bool concurrent = false)
    {
        // A derived class's fields are set by its initializers before this runs: the server never sees them unset.
        _concurrent = concurrent;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>The answer to request <paramref name="n"/> (from 0); null holds it unanswered.</summary>
    protected abstract (int Status, JsonObject Body)? Answer(int n, string body, HttpListenerRequest request);

    /// <summary>Called when a request is held.</summary>
    protected virtual void OnHeld() { }

    /// <summary>A chat completion whose one choice is a call of <paramref name="tool"/> (usage 1500 in / 60 out).</summary>
    protected static JsonObject ToolCall(int n, string tool, JsonObject arguments) => Completion(n, "tool_calls",
        new JsonObject
        {
            ["role"] = "assistant", ["content"] = null,
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = $"call_{n}", ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = tool, ["arguments"] = arguments.ToJsonString() },
            }),
        },
        new JsonObject { ["prompt_tokens"] = 1500, ["completion_tokens"] = 60, ["total_tokens"] = 1560 });

    /// <summary>A chat completion whose one choice is plain text (usage 2000 in / 300 out).</summary>
    protected static JsonObject Text(int n, string text) => Completion(n, "stop",
        new JsonObject { ["role"] = "assistant", ["content"] = text },
        new JsonObject { ["prompt_tokens"] = 2000, ["completion_tokens"] = 300, ["total_tokens"] = 2300 });

    private static JsonObject Completion(int n, string finishReason, JsonObject message, JsonObject usage) => new()
    {
        ["id"] = $"chatcmpl-{n}", ["object"] = "chat.completion", ["created"] = 1_700_000_000, ["model"] = "scripted-model",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["finish_reason"] = finishReason, ["message"] = message }),
        ["usage"] = usage,
    };

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext c;
            try { c = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            if (_concurrent) _ = Task.Run(() => RespondAsync(c));
            else await RespondAsync(c);
        }
    }

    private async Task RespondAsync(HttpListenerContext c)
    {
        try
        {
            using var reader = new StreamReader(c.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var n = Interlocked.Increment(ref _next) - 1;
            if (Answer(n, body, c.Request) is not { } answer)
            {
                OnHeld();
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(answer.Body.ToJsonString());
            c.Response.StatusCode = answer.Status;
            c.Response.ContentType = "application/json";
            c.Response.ContentLength64 = bytes.Length;
            await c.Response.OutputStream.WriteAsync(bytes);
            c.Response.Close();
        }
        catch (Exception)
        {
            // The client went away (killed) or the server stopped.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        GC.SuppressFinalize(this);
    }
}
