using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ReBench.WebConsole.Platform;
using ReBench.WebConsole.Sessions;

namespace ReBench.WebConsole.Pages;

public sealed class SignInModel(GatewayApi gateway, SessionStore sessions) : PageModel
{
    [BindProperty] public string? ApiKey { get; set; }
    public string? Refusal { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var key = ApiKey?.Trim();
        ApiKey = null; // never rendered back into the page
        if (string.IsNullOrEmpty(key) || key.Length > 512)
        {
            Refusal = "Enter an API key.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var result = await gateway.SignInAsync(key, ct);
        if (result.Role is not { } role)
        {
            Refusal = result.Refusal;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        // A fresh id at every sign-in (no fixation): an id the browser had before is dropped.
        sessions.End(Request.Cookies[SessionCookie.Name]);
        Response.Cookies.Append(SessionCookie.Name, sessions.Create(new ConsoleSession(key, role)), SessionCookie.Options());
        return Redirect("/");
    }
}
