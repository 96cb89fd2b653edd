using Grpc.Core;
using Microsoft.Playwright;
using Npgsql;
using ReBench.Orchestrator.V1;
using ReBench.Testing;
using Xunit.Abstractions;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The web console in a real browser against the platform as processes (issue 19): sign-in, a running attempt's
/// timeline growing by server push, a step's output opened, a chain edited in PostgreSQL shown BROKEN at that event,
/// an auditor with no admin control whose forged cancel is refused by the console and by the gateway, and axe-core.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ConsoleEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private ConsoleBrowser _console = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _console = await ConsoleBrowser.StartAsync(Platform);
        output.WriteLine($"screenshots: {ConsoleBrowser.ScreenshotDir}");
    }

    public override async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Sign_in_refuses_a_wrong_key_keeps_the_key_server_side_and_sign_out_ends_the_session()
    {
        var context = await _console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _console.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        Assert.EndsWith("/signin", page.Url); // not signed in: sent to sign in

        await page.FillAsync("#apiKey", "not-a-platform-key");
        await page.ClickAsync("button[type=submit]");
        Assert.Contains("not valid", await page.InnerTextAsync("[data-testid=signin-error]"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rebench_session");
        await ConsoleBrowser.ShotAsync(page, "signin-refused");

        await page.FillAsync("#apiKey", PlatformProcesses.ApiKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{_console.Url}/");
        Assert.Equal("admin", await page.InnerTextAsync("[data-testid=role]"));
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "rebench_session");
        Assert.True(cookie.HttpOnly && cookie.Secure && cookie.SameSite == SameSiteAttribute.Strict, $"cookie flags: {cookie.HttpOnly} {cookie.Secure} {cookie.SameSite}");
        Assert.DoesNotContain(PlatformProcesses.ApiKey, cookie.Value);
        Assert.DoesNotContain(PlatformProcesses.ApiKey, await page.ContentAsync());
        Assert.Empty(await ConsoleBrowser.SeriousViolationsAsync(page));
        await ConsoleBrowser.ShotAsync(page, "campaigns");

        await page.ClickAsync("button:has-text('Sign out')");
        await page.WaitForURLAsync($"{_console.Url}/signin");
        // The old session id, presented again, is refused: the session ended on the server, not only in the browser.
        await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = "/", Secure = true, HttpOnly = true, SameSite = SameSiteAttribute.Strict }]);
        await page.GotoAsync("/");
        Assert.EndsWith("/signin", page.Url);
        Assert.DoesNotContain(PlatformProcesses.ApiKey, await File.ReadAllTextAsync(Path.Combine(Platform.LogsDir, "console.log")));
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_running_attempt_grows_live_its_output_opens_and_only_an_admin_can_cancel_it()
    {
        var admin = Platform.Orchestrator();
        var campaign = await admin.Campaigns.CreateCampaignAsync(Scripted.Campaign("console-live", TimeSpan.FromMinutes(3),
            new { run = "echo first-step-output", timeout = 30 },
            new { run = "sleep 15; echo second-step-output; seq 1 400", timeout = 60 },
            new { run = "sleep 120", timeout = 150 }));
        var attemptId = campaign.AttemptIds.Single();
        await WaitForAsync(admin, attemptId, a => a.Status == AttemptStatus.Running, "running");

        var page = await _console.SignedInAsync(PlatformProcesses.ApiKey);
        await page.GotoAsync($"/attempts/{attemptId}");
        Assert.Equal(1, await page.Locator("[data-testid=live]").CountAsync());
        // A marker on the window: it survives only if the rows arrive without a reload.
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        // The completed second step: the row with an exit code (its request row shows the same command).
        var second = page.Locator("li.ev", new() { HasText = "second-step-output", Has = page.Locator(".exit") });
        Assert.Equal(0, await second.CountAsync()); // not there at load: it must arrive by push
        await second.WaitForAsync(new() { Timeout = 90_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded instead of receiving pushed rows");

        var details = second.Locator("details.output");
        Assert.False(await details.Locator("pre.stdout").IsVisibleAsync()); // collapsed until asked
        await details.Locator("summary").ClickAsync();
        Assert.Contains("400", await details.Locator("pre.stdout").InnerTextAsync()); // the full output, last line included
        Assert.Contains("sleep 15; echo second-step-output", await second.Locator(".cmd").InnerTextAsync());
        Assert.Contains("exit 0", await second.InnerTextAsync());
        Assert.Equal(1, await page.Locator("[data-testid=cancel-form]").CountAsync()); // control: the admin sees it
        Assert.Empty(await ConsoleBrowser.SeriousViolationsAsync(page));
        await ConsoleBrowser.ShotAsync(page, "attempt-live-admin");

        var auditor = await _console.SignedInAsync(PlatformProcesses.AuditorKey);
        Assert.Equal("auditor", await auditor.InnerTextAsync("[data-testid=role]"));
        await auditor.GotoAsync($"/attempts/{attemptId}");
        Assert.Equal(0, await auditor.Locator("[data-testid=cancel-form]").CountAsync());
        Assert.Equal(0, await auditor.Locator("text=Cancel attempt").CountAsync());
        await ConsoleBrowser.ShotAsync(auditor, "attempt-live-auditor");
        // Forged: the auditor's own session and a valid antiforgery token (from the verify form), the cancel handler.
        var token = await auditor.Locator("form input[name=__csrf]").First.GetAttributeAsync("value");
        var forged = await auditor.Context.APIRequest.PostAsync($"/attempts/{attemptId}?handler=Cancel", new()
        {
            Form = auditor.Context.APIRequest.CreateFormData().Set("__csrf", token!).Set("Reason", "forged"),
            MaxRedirects = 0,
        });
        Assert.Equal(403, forged.Status);
        Assert.Contains("may not cancel", await forged.TextAsync());
        // The gateway refuses the same call with the auditor's key, whatever a console did.
        var refused = await Assert.ThrowsAsync<RpcException>(() => Platform.Orchestrator(PlatformProcesses.AuditorKey).Attempts
            .CancelAttemptAsync(new CancelAttemptRequest { AttemptId = attemptId, Reason = "forged" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AttemptStatus.Running, (await admin.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId })).Status);

        // The admin's cancel goes through, from the page.
        await page.FillAsync("#reason", "ended by the console test");
        await page.ClickAsync("text=Cancel attempt");
        await WaitForAsync(admin, attemptId, Waits.IsFinished, "ended");
        Assert.Equal(AttemptStatus.Cancelled, (await admin.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId })).Status);
    }

    [Fact]
    public async Task An_event_edited_in_postgresql_shows_broken_at_that_event()
    {
        var admin = Platform.Orchestrator();
        var campaign = await admin.Campaigns.CreateCampaignAsync(Scripted.Campaign("console-tamper", TimeSpan.FromMinutes(2),
            new { run = "echo honest-output", timeout = 30 },
            new { submit = "done" }));
        var attemptId = campaign.AttemptIds.Single();
        await Waits.CampaignFinishedAsync(admin, campaign.CampaignId, TimeSpan.FromMinutes(3));

        var page = await _console.SignedInAsync(PlatformProcesses.AuditorKey);
        // The campaigns list finds it by name, and the campaign's attempts show its row.
        await page.GotoAsync("/?q=console-tamper");
        await page.ClickAsync("a:has-text('console-tamper')");
        var row = page.Locator("[data-testid=attempts] tbody tr", new() { HasText = attemptId[..8] });
        Assert.Contains("completed", await row.InnerTextAsync());
        Assert.Contains("ai_rd_triton_cumsum:cpu", await row.InnerTextAsync());
        Assert.Empty(await ConsoleBrowser.SeriousViolationsAsync(page));
        await ConsoleBrowser.ShotAsync(page, "campaign");
        await row.Locator("a").ClickAsync();
        await page.WaitForURLAsync($"{_console.Url}/attempts/{attemptId}");
        await page.ClickAsync("text=Verify chain and seal");
        Assert.StartsWith("OK", await page.InnerTextAsync("[data-testid=chain-status]")); // control: untouched, it verifies

        await using var db = new NpgsqlConnection(TestEnv.PostgresConnectionString);
        await db.OpenAsync();
        long seq, version;
        string original;
        await using (var find = new NpgsqlCommand(
            $"select seq_id, version, data::text from \"{Platform.Schema}\".mt_events where type = 'action_completed' and data ->> 'AttemptId' = $1 order by version limit 1", db))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = attemptId });
            await using var r = await find.ExecuteReaderAsync();
            Assert.True(await r.ReadAsync(), "no action_completed event to edit");
            (seq, version, original) = (r.GetInt64(0), r.GetInt64(1), r.GetString(2));
        }
        await SetDataAsync(db, seq, original.Replace("honest-output", "forged-output", StringComparison.Ordinal));
        try
        {
            await page.ClickAsync("text=Verify chain and seal");
            var status = await page.InnerTextAsync("[data-testid=chain-status]");
            Assert.StartsWith($"BROKEN at event {version}", status);
            var brokenRow = page.Locator($"li#ev-{version}");
            Assert.Contains("broken", await brokenRow.GetAttributeAsync("class") ?? "");
            Assert.Equal(1, await page.Locator("li.ev.broken").CountAsync()); // only the first broken event
            Assert.Contains("BROKEN LINK", await brokenRow.InnerTextAsync());
            Assert.Empty(await ConsoleBrowser.SeriousViolationsAsync(page));
            await ConsoleBrowser.ShotAsync(page, "attempt-broken");
        }
        finally
        {
            // Put the stored body back, so the attempt verifies again for the end-state check every test ends with.
            await SetDataAsync(db, seq, original);
        }
        await page.ClickAsync("text=Verify chain and seal");
        Assert.StartsWith("OK", await page.InnerTextAsync("[data-testid=chain-status]"));
    }

    private async Task SetDataAsync(NpgsqlConnection db, long seq, string json)
    {
        await using var edit = new NpgsqlCommand($"update \"{Platform.Schema}\".mt_events set data = $1::jsonb where seq_id = $2", db);
        edit.Parameters.Add(new NpgsqlParameter { Value = json });
        edit.Parameters.Add(new NpgsqlParameter { Value = seq });
        Assert.Equal(1, await edit.ExecuteNonQueryAsync());
    }

    private static async Task WaitForAsync(OrchestratorClients client, string attemptId, Func<Attempt, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        Attempt a;
        while (!done(a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId })))
        {
            Assert.True(DateTime.UtcNow < deadline, $"attempt {attemptId} not {what} after 3 minutes: {a.Status} {a.FailureReason}");
            await Task.Delay(300);
        }
    }
}
