using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Grpc.Core;
using ReBench.Orchestrator.V1;
using ReBench.Replay;
using ReBench.WebConsole.Sessions;

namespace ReBench.WebConsole.Platform;

/// <summary>The two non-page endpoints: the live timeline (server push) and a blob download.</summary>
public static class ConsoleApi
{
    public static void MapConsoleApi(this WebApplication app)
    {
        // Live growth of a running attempt: the gateway's WatchAttempt stream, relayed as server-sent events of rendered
        // rows. The browser holds one connection; nothing polls.
        app.MapGet("/api/attempts/{id}/watch", (string id, long? from, string? kind, HttpContext context, GatewayApi gateway, CancellationToken ct) =>
        {
            var api = gateway.For(context.Session()!);
            return TypedResults.ServerSentEvents(WatchAsync(api, id, Math.Max(1, from ?? 1), kind, ct));
        });

        app.MapGet("/attempts/{id}/blobs/{sha256}", async (string id, string sha256, HttpContext context, GatewayApi gateway, CancellationToken ct) =>
        {
            var blob = await gateway.For(context.Session()!).Audit.GetBlobAsync(new GetBlobRequest { Sha256 = sha256 }, cancellationToken: ct);
            // As a download of plain text: a blob is agent-written content and must never render as a page of this origin.
            return Results.File(blob.Content.ToByteArray(), "text/plain; charset=utf-8", $"{blob.Sha256[..16]}.txt");
        });
    }

    private static async IAsyncEnumerable<SseItem<string>> WatchAsync(GatewayApi.Clients api, string attemptId, long from, string? kind,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var commands = new Dictionary<string, string>(StringComparer.Ordinal);
        using var call = api.Attempts.WatchAttempt(new WatchAttemptRequest { AttemptId = attemptId, FromVersion = from }, cancellationToken: ct);
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
        {
            var ev = EventPages.Convert(e);
            var html = TimelineHtml.Row(attemptId, ev, commands);
            if (!string.IsNullOrEmpty(kind) && TimelineKind.Of(ev.Type) != kind) html = "";
            yield return new SseItem<string>(JsonSerializer.Serialize(new { v = ev.Version, html }), "row");
        }
        // The attempt ended (the watch completes after its last event): tell the page to stop, not reconnect.
        yield return new SseItem<string>("{}", "end");
    }
}

/// <summary>
/// A refusal from the gateway becomes a short page with its status and message (the gateway's messages quote little of
/// the input); an UNAUTHENTICATED answer means the key was revoked, so the session ends.
/// </summary>
public sealed class GatewayErrors(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, SessionStore sessions)
    {
        try
        {
            await next(context);
        }
        catch (RpcException e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            if (e.StatusCode == StatusCode.Unauthenticated)
            {
                sessions.End(context.Request.Cookies[SessionCookie.Name]);
                context.Response.Cookies.Delete(SessionCookie.Name, SessionCookie.Options());
            }
            context.Response.StatusCode = e.StatusCode switch
            {
                StatusCode.NotFound => 404,
                StatusCode.InvalidArgument => 400,
                StatusCode.PermissionDenied => 403,
                StatusCode.Unauthenticated => 401,
                StatusCode.FailedPrecondition => 409,
                _ => 502,
            };
            context.Response.ContentType = "text/html; charset=utf-8";
            var message = System.Text.Encodings.Web.HtmlEncoder.Default.Encode(e.Status.Detail);
            await context.Response.WriteAsync(
                $"<!doctype html><html lang=\"en\"><head><title>Refused</title><link rel=\"stylesheet\" href=\"/static/console.css\"></head><body><main>" +
                $"<h1>The gateway refused: {e.StatusCode}</h1><p class=\"refusal\" role=\"alert\">{message}</p><p><a href=\"/\">Campaigns</a></p></main></body></html>");
        }
    }
}
