using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>
/// A real HTTP server on loopback (Kestrel) that speaks the Kubernetes API for exactly the calls the driver makes:
/// create/delete ConfigMaps, NetworkPolicies and Pods, read and list Pods, and the pod exec subresource as a
/// WebSocket with the v5.channel.k8s.io / v4.channel.k8s.io channel framing. Exec runs the requested argv as a local
/// process, as a kubelet would run it in the container; status on channel 3 is formatted as the kubelet formats it.
/// Every request is recorded.
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _objects = new(); // "kind/namespace/name"

    public sealed record Request(string Method, string Path, string Query, JsonObject? Body);
    public sealed record ExecCall(string Pod, string Container, IReadOnlyList<string> Command, bool Stdin, string Protocol, byte[] StdinReceived, bool StdinClosedByClient);

    public ConcurrentQueue<Request> Requests { get; } = new();
    public ConcurrentQueue<ExecCall> Execs { get; } = new();
    /// <summary>Subprotocols this "API server" accepts, best first; an old cluster knows only v4.</summary>
    public string[] Protocols { get; set; } = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
    /// <summary>How many GETs a new pod answers Pending before Running.</summary>
    public int PendingReads { get; set; } = 1;
    public string Url { get; private set; } = "";

    private FakeKubeApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Run(HandleAsync);
    }

    /// <summary>A started fake: its <see cref="Url"/> is known once it listens.</summary>
    public static async Task<FakeKubeApi> StartAsync()
    {
        var api = new FakeKubeApi();
        await api._app.StartAsync();
        api.Url = api._app.Urls.First();
        return api;
    }

    public JsonObject? Object(string kind, string ns, string name) => _objects.GetValueOrDefault($"{kind}/{ns}/{name}");
    public IEnumerable<string> ObjectKeys => _objects.Keys;

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value!;
        var segments = path.Trim('/').Split('/');
        JsonObject? body = null;
        if (http.Request.Method is "POST" && !http.WebSockets.IsWebSocketRequest)
        {
            body = JsonNode.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync()) as JsonObject;
        }
        Requests.Enqueue(new Request(http.Request.Method, path, http.Request.QueryString.Value ?? "", body));

        // /api/v1/namespaces/{ns}/{kind}[/{name}[/exec]]  or  /apis/networking.k8s.io/v1/namespaces/{ns}/{kind}[/{name}]
        var nsAt = Array.IndexOf(segments, "namespaces");
        if (nsAt < 0 || segments.Length < nsAt + 3) { await Status(http, 404, "NotFound", "no such path"); return; }
        var ns = segments[nsAt + 1];
        var kind = segments[nsAt + 2];
        var name = segments.Length > nsAt + 3 ? segments[nsAt + 3] : null;
        var sub = segments.Length > nsAt + 4 ? segments[nsAt + 4] : null;

        if (sub == "exec") { await ExecAsync(http, ns, name!); return; }
        switch (http.Request.Method, name)
        {
            case ("POST", null):
                var objName = body!["metadata"]!["name"]!.GetValue<string>();
                var key = $"{kind}/{ns}/{objName}";
                var stored = (JsonObject)body.DeepClone();
                stored["metadata"]!["uid"] = Guid.NewGuid().ToString();
                stored["metadata"]!["namespace"] = ns;
                if (kind == "pods") stored["status"] = new JsonObject { ["phase"] = "Pending" };
                if (!_objects.TryAdd(key, stored)) { await Status(http, 409, "AlreadyExists", $"{kind} \"{objName}\" already exists"); return; }
                if (kind == "pods") _pendingReads[key] = PendingReads;
                await Json(http, 201, stored);
                return;
            case ("GET", null):
                var items = new JsonArray(_objects.Where(o => o.Key.StartsWith($"{kind}/{ns}/")).Select(o => (JsonNode)o.Value.DeepClone()).ToArray());
                await Json(http, 200, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "PodList", ["metadata"] = new JsonObject(), ["items"] = items });
                return;
            case ("GET", _):
                if (!_objects.TryGetValue($"{kind}/{ns}/{name}", out var obj)) { await Status(http, 404, "NotFound", $"{kind} \"{name}\" not found"); return; }
                if (kind == "pods" && _pendingReads.AddOrUpdate($"{kind}/{ns}/{name}", 0, (_, n) => n - 1) < 0) obj["status"] = new JsonObject { ["phase"] = "Running" };
                await Json(http, 200, obj);
                return;
            case ("DELETE", _):
                if (!_objects.TryRemove($"{kind}/{ns}/{name}", out var removed)) { await Status(http, 404, "NotFound", $"{kind} \"{name}\" not found"); return; }
                await Json(http, 200, removed);
                return;
        }
        await Status(http, 405, "MethodNotAllowed", "not supported by the fake");
    }

    private readonly ConcurrentDictionary<string, int> _pendingReads = new();

    private async Task ExecAsync(HttpContext http, string ns, string pod)
    {
        if (!_objects.ContainsKey($"pods/{ns}/{pod}")) { await Status(http, 404, "NotFound", $"pods \"{pod}\" not found"); return; }
        if (!http.WebSockets.IsWebSocketRequest) { await Status(http, 400, "BadRequest", "exec needs an upgrade"); return; }
        var offered = http.WebSockets.WebSocketRequestedProtocols;
        var protocol = Protocols.FirstOrDefault(offered.Contains);
        // The API server's websocket handshake refuses an upgrade offering none of its protocols with 403.
        if (protocol is null)
        {
            await Status(http, 403, "Forbidden", $"requested protocol(s) are not supported: [{string.Join(" ", offered)}]; supports [{string.Join(" ", Protocols)}]");
            return;
        }
        using var socket = await http.WebSockets.AcceptWebSocketAsync(protocol);
        var q = http.Request.Query;
        var command = q["command"].Select(c => c!).ToList();
        var wantsStdin = q["stdin"] is var s && (s == "true" || s == "1");

        var info = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var send = new SemaphoreSlim(1, 1);
        async Task Send(byte channel, ReadOnlyMemory<byte> data)
        {
            var frame = new byte[data.Length + 1];
            frame[0] = channel;
            data.CopyTo(frame.AsMemory(1));
            await send.WaitAsync();
            try { await socket.SendAsync(frame, WebSocketMessageType.Binary, true, default); } finally { send.Release(); }
        }
        async Task Pump(Stream from, byte channel)
        {
            var buffer = new byte[8192];
            int n;
            while ((n = await from.ReadAsync(buffer)) > 0) await Send(channel, buffer.AsMemory(0, n));
        }
        var received = new MemoryStream();
        var closedByClient = false;
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var r = await socket.ReceiveAsync(buffer, default);
                    if (r.MessageType == WebSocketMessageType.Close) break;
                    if (r.Count < 1) continue;
                    if (buffer[0] == 0 && wantsStdin) { await received.WriteAsync(buffer.AsMemory(1, r.Count - 1)); await process.StandardInput.BaseStream.WriteAsync(buffer.AsMemory(1, r.Count - 1)); await process.StandardInput.BaseStream.FlushAsync(); }
                    else if (buffer[0] == 255 && protocol.StartsWith("v5") && r.Count >= 2 && buffer[1] == 0) { closedByClient = true; process.StandardInput.Close(); }
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException) { }
        });
        if (!wantsStdin) process.StandardInput.Close();
        await Task.WhenAll(Pump(process.StandardOutput.BaseStream, 1), Pump(process.StandardError.BaseStream, 2));
        await process.WaitForExitAsync();
        var code = process.ExitCode;
        var status = code == 0
            ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
            : new JsonObject
            {
                ["metadata"] = new JsonObject(), ["status"] = "Failure",
                ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {code}",
                ["reason"] = "NonZeroExitCode",
                ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code.ToString() }) },
            };
        await Send(3, Encoding.UTF8.GetBytes(status.ToJsonString()));
        try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", default); } catch (WebSocketException) { }
        await Task.WhenAny(reader, Task.Delay(5000));
        Execs.Enqueue(new ExecCall(pod, q["container"].ToString(), command, wantsStdin, protocol, received.ToArray(), closedByClient));
    }

    private static Task Json(HttpContext http, int code, JsonNode body)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(body.ToJsonString());
    }

    private static Task Status(HttpContext http, int code, string reason, string message) => Json(http, code, new JsonObject
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
        ["message"] = message, ["reason"] = reason, ["code"] = code,
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
