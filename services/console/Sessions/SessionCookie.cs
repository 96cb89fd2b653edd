namespace ReBench.WebConsole.Sessions;

/// <summary>The session cookie and the middleware that resolves it; pages read the session from HttpContext.Items.</summary>
public static class SessionCookie
{
    public const string Name = "rebench_session";
    private const string ItemKey = "rebench.session";

    public static CookieOptions Options() => new()
    {
        // Secure, not sent to scripts, never sent on a cross-site request (with antiforgery, CSRF needs both broken).
        Secure = true, HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true,
    };

    public static ConsoleSession? Session(this HttpContext context) => context.Items[ItemKey] as ConsoleSession;

    /// <summary>Everything but the sign-in page, static files and health needs a live session; pages are redirected, the rest answers 401.</summary>
    public static IApplicationBuilder UseConsoleSessions(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var store = context.RequestServices.GetRequiredService<SessionStore>();
        if (store.Find(context.Request.Cookies[Name]) is { } session) context.Items[ItemKey] = session;
        var path = context.Request.Path;
        var open = path.StartsWithSegments("/signin") || path.StartsWithSegments("/static") || path.StartsWithSegments("/healthz");
        if (!open && context.Session() is null)
        {
            if (HttpMethods.IsGet(context.Request.Method) && !path.StartsWithSegments("/api"))
            {
                context.Response.Redirect("/signin");
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsync("not signed in");
            }
            return;
        }
        await next(context);
    });
}
