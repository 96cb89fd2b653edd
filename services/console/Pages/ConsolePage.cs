using Microsoft.AspNetCore.Mvc.RazorPages;
using ReBench.WebConsole.Platform;
using ReBench.WebConsole.Sessions;

namespace ReBench.WebConsole.Pages;

/// <summary>A page behind sign-in: the session (set by the session middleware) and the gateway clients with its key.</summary>
public abstract class ConsolePage(GatewayApi gateway) : PageModel
{
    public ConsoleSession Current => HttpContext.Session() ?? throw new InvalidOperationException("no session: the session middleware guards this page");
    protected GatewayApi.Clients Api => gateway.For(Current);
}
