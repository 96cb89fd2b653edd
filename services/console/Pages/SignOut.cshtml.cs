using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ReBench.WebConsole.Sessions;

namespace ReBench.WebConsole.Pages;

public sealed class SignOutModel(SessionStore sessions) : PageModel
{
    public void OnGet() { }

    /// <summary>Ends the session on the server (the key is forgotten), then drops the cookie.</summary>
    public IActionResult OnPost()
    {
        sessions.End(Request.Cookies[SessionCookie.Name]);
        Response.Cookies.Delete(SessionCookie.Name, SessionCookie.Options());
        return Redirect("/signin");
    }
}
