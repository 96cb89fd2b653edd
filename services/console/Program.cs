using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Antiforgery;
using ReBench.WebConsole.Platform;
using ReBench.WebConsole.Sessions;

// The pages' script and stylesheet come from wwwroot beside the assembly, wherever the process was started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args, ContentRootPath = AppContext.BaseDirectory, WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});
// Loopback only unless told otherwise: the console holds signed-in keys and is meant to sit beside the gateway.
var port = builder.Configuration.GetValue("Service:Port", 5106);
var bind = builder.Configuration.GetValue("Console:Bind", "127.0.0.1")!;
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Parse(bind), port));

var gateway = builder.Configuration["Services:Gateway"] ?? "http://127.0.0.1:5100";
builder.Services.AddSingleton(_ => new GatewayApi(GrpcChannel.ForAddress(gateway)));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SessionStore>();
builder.Services.AddRazorPages(o => o.Conventions.ConfigureFilter(new Microsoft.AspNetCore.Mvc.AutoValidateAntiforgeryTokenAttribute()));
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "rebench_csrf";
    // Always would make antiforgery throw on a plain-HTTP loopback request; the Secure flag is added below instead.
    o.Cookie.SecurePolicy = CookieSecurePolicy.None;
    o.Cookie.HttpOnly = true;
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.FormFieldName = "__csrf";
});

var app = builder.Build();
app.Use(async (context, next) =>
{
    // No framing (clickjacking of the admin buttons), scripts and styles from this origin only, no referrer leaking ids.
    var h = context.Response.Headers;
    h["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
    h["X-Frame-Options"] = "DENY";
    h["X-Content-Type-Options"] = "nosniff";
    h["Referrer-Policy"] = "no-referrer";
    h["Cache-Control"] = "no-store";
    // Every cookie the console sets is Secure. Browsers accept Secure cookies from loopback over plain HTTP (a
    // potentially trustworthy origin), so the flag costs nothing there and keeps them off plain HTTP anywhere else.
    context.Response.OnStarting(() =>
    {
        var cookies = context.Response.Headers.SetCookie;
        if (cookies.Count > 0)
            context.Response.Headers.SetCookie = new Microsoft.Extensions.Primitives.StringValues(
                cookies.Select(c => c is null || c.Contains("; secure", StringComparison.OrdinalIgnoreCase) ? c : c + "; secure").ToArray());
        return Task.CompletedTask;
    });
    await next(context);
});
app.UseStaticFiles(new StaticFileOptions { RequestPath = "/static" });
app.MapGet("/healthz", () => "ok");
app.UseConsoleSessions();
app.UseMiddleware<GatewayErrors>();
app.UseRouting();
app.UseAntiforgery();
app.MapRazorPages();
app.MapConsoleApi();

app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation("console on http://{Bind}:{Port} (gateway {Gateway})", bind, port, gateway));
app.Run();
