using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace ReBench.Agents.Tests.Llm;

/// <summary>One HTTP request the fake model server received.</summary>
public sealed record LlmRequest(string Path, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>One scripted answer: status, raw body, extra headers.</summary>
public sealed record LlmReply(int Status, string Body, params (string Name, string Value)[] Headers)
{
    /// <summary>
    /// When set, the server announces the whole body's Content-Length, sends only this many bytes of it and then
    /// aborts the connection: a stream cut in the middle.
    /// </summary>
    public int? CutAfterBytes { get; init; }

    /// <summary>When set, the server waits this long (or until the client gives up) before it answers.</summary>
    public TimeSpan? Delay { get; init; }
}

/// <summary>
/// A real HTTP server on loopback that speaks the OpenAI chat-completions (POST /v1/chat/completions) and Anthropic
/// Messages (POST /v1/messages) wire protocols and answers with scripted replies in order. When the script is used up
/// it answers with a call to `submit`, so a run always ends.
/// </summary>
public sealed class FakeLlmServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<LlmReply> _script = new();
    private readonly ConcurrentQueue<LlmRequest> _requests = new();
    private WebApplication? _app;
    private int _ids;

    public int Port { get; } = TestEnv.FreePort();
    public string OpenAiEndpoint => $"http://127.0.0.1:{Port}/v1";
    public string AnthropicEndpoint => $"http://127.0.0.1:{Port}";
    public IReadOnlyList<LlmRequest> Requests => [.. _requests];

    public void Enqueue(params LlmReply[] replies)
    {
        foreach (var r in replies) _script.Enqueue(r);
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", (HttpContext c) => AnswerAsync(c, anthropic: false));
        app.MapPost("/v1/messages", (HttpContext c) => AnswerAsync(c, anthropic: true));
        await app.StartAsync();
        _app = app;
    }

    private async Task AnswerAsync(HttpContext context, bool anthropic)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        _requests.Enqueue(new LlmRequest(context.Request.Path, body, headers));
        if (!_script.TryDequeue(out var reply))
            reply = anthropic ? AnthropicTool("submit", """{"submission":"end of script"}""") : OpenAiTool("submit", """{"submission":"end of script"}""");
        if (reply.Delay is { } delay)
        {
            try { await Task.Delay(delay, context.RequestAborted); }
            catch (OperationCanceledException) { return; } // the client timed out and went away
        }
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers) context.Response.Headers[name] = value;
        context.Response.ContentType = "application/json";
        if (reply.CutAfterBytes is { } cut)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(reply.Body);
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes.AsMemory(0, Math.Min(cut, bytes.Length)));
            await context.Response.Body.FlushAsync();
            // Let the headers and the first half reach the client before the connection is reset.
            await Task.Delay(300);
            context.Abort();
            return;
        }
        await context.Response.WriteAsync(reply.Body);
    }

    /// <summary>The reply cut after half of its body (the connection is reset, the client has a partial JSON).</summary>
    public static LlmReply CutInTheMiddle(LlmReply whole) => whole with { CutAfterBytes = whole.Body.Length / 2 };

    private string NextId(string prefix) => $"{prefix}_{Interlocked.Increment(ref _ids)}";

    // ---- OpenAI chat completions ----

    public LlmReply OpenAiTool(string name, string argumentsJson, int prompt = 1000, int completion = 50, int cached = 0, int reasoning = 0) =>
        OpenAiTools([(name, argumentsJson)], prompt, completion, cached, reasoning);

    public LlmReply OpenAiTools((string Name, string ArgumentsJson)[] calls, int prompt = 1000, int completion = 50, int cached = 0, int reasoning = 0)
    {
        var toolCalls = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
        {
            ["id"] = NextId("call"), ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
        })]);
        var message = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = toolCalls };
        return OpenAi(message, "tool_calls", prompt, completion, cached, reasoning);
    }

    public LlmReply OpenAiText(string text, int prompt = 1000, int completion = 50) =>
        OpenAi(new JsonObject { ["role"] = "assistant", ["content"] = text }, "stop", prompt, completion, 0, 0);

    private LlmReply OpenAi(JsonObject message, string finish, int prompt, int completion, int cached, int reasoning) => new(200, new JsonObject
    {
        ["id"] = NextId("chatcmpl"), ["object"] = "chat.completion", ["created"] = 1_700_000_000, ["model"] = "fake-model",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
        ["usage"] = new JsonObject
        {
            ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
            ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reasoning },
        },
    }.ToJsonString());

    public static LlmReply OpenAiError(int status, string message, params (string, string)[] headers) =>
        new(status, JsonSerializer.Serialize(new { error = new { message, type = "invalid_request_error", code = (string?)null } }), headers);

    // ---- Anthropic messages ----

    public LlmReply AnthropicTool(string name, string inputJson, int input = 1000, int output = 50, int cacheRead = 0) => Anthropic(
        new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = NextId("toolu"), ["name"] = name, ["input"] = JsonNode.Parse(inputJson) }),
        "tool_use", input, output, cacheRead);

    public LlmReply AnthropicText(string text) =>
        Anthropic(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }), "end_turn", 1000, 50, 0);

    private LlmReply Anthropic(JsonArray content, string stop, int input, int output, int cacheRead) => new(200, new JsonObject
    {
        ["id"] = NextId("msg"), ["type"] = "message", ["role"] = "assistant", ["model"] = "fake-claude", ["content"] = content,
        ["stop_reason"] = stop, ["stop_sequence"] = null,
        ["usage"] = new JsonObject
        {
            ["input_tokens"] = input, ["output_tokens"] = output, ["cache_read_input_tokens"] = cacheRead, ["cache_creation_input_tokens"] = 0,
        },
    }.ToJsonString());

    public static LlmReply AnthropicError(int status, string type, string message) =>
        new(status, JsonSerializer.Serialize(new { type = "error", error = new { type, message } }));

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
