using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Playwright;
using ReBench.Orchestrator.V1;
using ReBench.Testing;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Hostile tests of three boundaries added at once (attack19): the web console (antiforgery, session fixation and
/// reuse, the key in pages, URLs, redirects and logs, open redirects, agent-written markup, hostile ids), the agent's
/// task environment in the sandbox (SetAgentEnvironment without a service token, one environment's values in another,
/// the stored agent-env.json) and Dapr secrets with hostile content. Each attack has a control that makes the same
/// request the honest way and sees it answered, so a refusal for another reason cannot pass it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AttackNewBoundariesTests(PlatformProcesses platform) : PlatformTest(platform)
{
    private ConsoleBrowser _console = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _console = await ConsoleBrowser.StartAsync(Platform);
    }

    public override async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Admin_posts_without_or_with_a_foreign_antiforgery_token_are_refused_and_a_signed_out_session_stays_dead()
    {
        var admin = await _console.SignedInAsync(PlatformProcesses.ApiKey);
        var token = await admin.Locator("form input[name=__csrf]").First.GetAttributeAsync("value");
        // Another browser (the attacker's own admin session) has its own token: it must not fit the victim's cookie.
        var other = await _console.SignedInAsync(PlatformProcesses.ApiKey);
        var foreign = await other.Locator("form input[name=__csrf]").First.GetAttributeAsync("value");
        Assert.NotEqual(token, foreign);
        var cancel = $"/attempts/{Guid.NewGuid()}?handler=Cancel";

        async Task<IAPIResponse> PostAsync(IPage page, string url, string? csrf) => await page.Context.APIRequest.PostAsync(url, new()
        {
            Form = csrf is null ? page.Context.APIRequest.CreateFormData().Set("Reason", "forged")
                : page.Context.APIRequest.CreateFormData().Set("__csrf", csrf).Set("Reason", "forged"),
            MaxRedirects = 0,
        });

        Assert.Equal(400, (await PostAsync(admin, cancel, null)).Status);
        Assert.Equal(400, (await PostAsync(admin, cancel, foreign)).Status);
        Assert.Equal(400, (await PostAsync(admin, cancel, "forged-token")).Status);
        // Control: the page's own token passes antiforgery; the gateway then answers for the unknown attempt.
        var honest = await PostAsync(admin, cancel, token);
        Assert.Equal(404, honest.Status);
        Assert.Contains("The gateway refused", await honest.TextAsync());

        // Sign-out without a token does not sign out; with one it does, and the old cookie is dead for pages and POSTs.
        var cookie = Assert.Single(await admin.Context.CookiesAsync(), c => c.Name == "rebench_session");
        Assert.Equal(400, (await PostAsync(admin, "/signout", null)).Status);
        Assert.Equal(200, (await admin.Context.APIRequest.GetAsync("/", new() { MaxRedirects = 0 })).Status);
        Assert.Equal(302, (await PostAsync(admin, "/signout", token)).Status);
        var reused = await _console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _console.Url });
        await reused.AddCookiesAsync([Copy(cookie, cookie.Value)]);
        Assert.Equal("/signin", (await reused.APIRequest.GetAsync("/", new() { MaxRedirects = 0 })).Headers["location"]);
        var page = await reused.NewPageAsync();
        Assert.Equal(401, (await PostAsync(page, cancel, token)).Status);
        Assert.Equal(401, (await reused.APIRequest.GetAsync($"/api/attempts/{Guid.NewGuid()}/watch", new() { MaxRedirects = 0 })).Status);
        foreach (var c in new[] { admin.Context, other.Context, reused }) await c.CloseAsync();
    }

    [Fact]
    public async Task A_session_id_chosen_before_sign_in_is_never_adopted_and_no_redirect_leaves_the_console()
    {
        var context = await _console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _console.Url });
        var chosen = "attacker-chosen-" + Guid.NewGuid().ToString("N");
        await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "rebench_session", Value = chosen, Url = _console.Url }]);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        Assert.EndsWith("/signin", page.Url); // the chosen id is no session

        // returnUrl in every spelling is ignored: the console only ever sends a signed-in user to its own "/".
        await page.GotoAsync("/signin?returnUrl=https%3A%2F%2Fexample.invalid%2F&ReturnUrl=%2F%2Fexample.invalid&next=%2F%5Cexample.invalid");
        await page.FillAsync("#apiKey", PlatformProcesses.AuditorKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{_console.Url}/");
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "rebench_session");
        Assert.NotEqual(chosen, cookie.Value);
        Assert.Equal("auditor", await page.InnerTextAsync("[data-testid=role]")); // control: signed in

        // The chosen value is still no session, for anyone presenting it.
        var attacker = await _console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _console.Url });
        await attacker.AddCookiesAsync([Copy(cookie, chosen)]);
        Assert.Equal("/signin", (await attacker.APIRequest.GetAsync("/", new() { MaxRedirects = 0 })).Headers["location"]);

        // Redirects of a signed-out visitor stay on this origin, whatever the path looks like.
        // Absolute URLs of the console: a bare "//host/" would be resolved by Playwright as another host.
        foreach (var path in new[] { "//example.invalid/", "/%2F%2Fexample.invalid", "/\\example.invalid", "/attempts/x?returnUrl=https://example.invalid" })
        {
            var r = await attacker.APIRequest.GetAsync(_console.Url + path, new() { MaxRedirects = 0 });
            if (r.Status is 301 or 302 or 303 or 307 or 308) Assert.Equal("/signin", r.Headers["location"]);
        }
        foreach (var c in new[] { context, attacker }) await c.CloseAsync();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Agent_written_markup_renders_as_text_on_first_load_and_when_pushed_and_the_key_appears_nowhere()
    {
        var marker = Guid.NewGuid().ToString("N")[..8];
        var hostile = $"<script>window.__xss='{marker}-1'</script><img src=x onerror=\"window.__xss='{marker}-2'\">";
        var admin = Platform.Orchestrator();
        var campaign = await admin.Campaigns.CreateCampaignAsync(Scripted.Campaign("attack-console-xss", TimeSpan.FromMinutes(3),
            new { run = $"printf '%s\\n' '{hostile}'", timeout = 30 },
            new { write = $"<img src=x onerror=window.__xss=3>{marker}.txt", content = "<script>window.__xss=4</script>" },
            new { run = $"sleep 12; printf '%s\\n' 'pushed {hostile}' >&2; echo '<svg onload=window.__xss=5>'", timeout = 60 },
            new { submit = "done" }));
        var attemptId = campaign.AttemptIds.Single();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await admin.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = attemptId })).Status != AttemptStatus.Running)
        {
            Assert.True(DateTime.UtcNow < deadline, "the attempt did not start");
            await Task.Delay(300);
        }

        var page = await _console.SignedInAsync(PlatformProcesses.AuditorKey);
        var response = await page.GotoAsync($"/attempts/{attemptId}");
        var csp = response!.Headers["content-security-policy"];
        Assert.Contains("default-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        // The pushed step: its row arrives by server push while the page is open.
        var pushed = page.Locator("li.ev", new() { HasText = "svg onload", Has = page.Locator(".exit") });
        await pushed.WaitForAsync(new() { Timeout = 90_000 });
        foreach (var d in await page.Locator("details").AllAsync()) await d.Locator("summary").ClickAsync();

        // Control: the markup is on the page, as text.
        var text = await page.InnerTextAsync("ol");
        Assert.Contains(hostile, text);
        Assert.Contains($"pushed {hostile}", text);
        Assert.Contains($"<img src=x onerror=window.__xss=3>{marker}.txt", text);
        Assert.Equal(0, await page.Locator("ol script, ol img, ol svg").CountAsync());
        Assert.Equal("none", await page.EvaluateAsync<string>("() => String(window.__xss ?? 'none')"));

        await Waits.CampaignFinishedAsync(admin, campaign.CampaignId, TimeSpan.FromMinutes(3));
        await page.ReloadAsync();
        Assert.Equal("none", await page.EvaluateAsync<string>("() => String(window.__xss ?? 'none')"));
        foreach (var key in new[] { PlatformProcesses.ApiKey, PlatformProcesses.AuditorKey })
        {
            Assert.DoesNotContain(key, await page.ContentAsync());
            Assert.DoesNotContain(key, page.Url);
            Assert.DoesNotContain(key, await File.ReadAllTextAsync(Path.Combine(Platform.LogsDir, "console.log")));
        }
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Hostile_ids_in_console_urls_get_a_clear_4xx_never_a_server_error()
    {
        var campaign = await Platform.Orchestrator().Campaigns.CreateCampaignAsync(Scripted.Campaign("attack-console-ids", TimeSpan.FromMinutes(2),
            new { submit = "done" }));
        await Waits.CampaignFinishedAsync(Platform.Orchestrator(), campaign.CampaignId, TimeSpan.FromMinutes(3));
        var page = await _console.SignedInAsync(PlatformProcesses.AuditorKey);
        var request = page.Context.APIRequest;
        // Controls: the real ids answer 200.
        Assert.Equal(200, (await request.GetAsync($"/attempts/{campaign.AttemptIds.Single()}")).Status);
        Assert.Equal(200, (await request.GetAsync($"/campaigns/{campaign.CampaignId}")).Status);
        // Page numbers at the ends of long's range are clamped or show an empty page, never overflow into an error.
        foreach (var query in new[] { "?From=9223372036854775807", "?From=-9223372036854775808&Kind=%3Cscript%3E", "?From=1e99&Kind=corrections" })
            Assert.Equal(200, (await request.GetAsync($"/attempts/{campaign.AttemptIds.Single()}{query}")).Status);

        var huge = new string('a', 6000);
        var failures = new List<string>();
        foreach (var path in new[]
        {
            "/attempts/..%2F..%2F..%2Fetc%2Fpasswd", "/attempts/%2e%2e%2f%2e%2e", "/attempts/%00", "/attempts/%ff%fe", $"/attempts/{huge}",
            "/attempts/x'%22%3Cscript%3E", $"/campaigns/{huge}", "/campaigns/..%2F..%2Fetc", "/campaigns/%00",
            $"/attempts/x/blobs/{new string('f', 64)}", "/attempts/x/blobs/..%2F..%2Fetc%2Fpasswd", "/attempts/x/blobs/%00", $"/attempts/x/blobs/{huge}",
            "/api/attempts/..%2F..%2Fetc/watch", $"/api/attempts/{huge}/watch", $"/api/attempts/{Guid.NewGuid()}/watch",
            "/static/..%2F..%2FReBench.Console.dll", "/static/..%2Fappsettings.json", "/static/%2e%2e/ReBench.Console.dll",
        })
        {
            IAPIResponse r;
            var started = DateTime.UtcNow;
            try
            {
                r = await request.GetAsync(path, new() { MaxRedirects = 0, Timeout = 30_000 });
            }
            catch (TimeoutException)
            {
                // A hostile id must be answered, not left hanging (a watch of no attempt that never ends holds a connection).
                failures.Add($"{path[..Math.Min(path.Length, 70)]} -> no answer in {(DateTime.UtcNow - started).TotalSeconds:0} s");
                continue;
            }
            var body = await r.TextAsync();
            if (r.Status is < 400 or >= 500 || body.StartsWith("MZ", StringComparison.Ordinal) || body.Contains("\"Logging\""))
                failures.Add($"{path[..Math.Min(path.Length, 70)]} -> {r.Status} {body[..Math.Min(body.Length, 120)]}");
        }
        Assert.True(failures.Count == 0, "not a clear 4xx:\n" + string.Join('\n', failures));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Set_agent_environment_needs_a_service_token_and_one_environments_values_reach_no_other_or_log()
    {
        using var signed = Platform.BackendChannel("sandbox");
        using var bare = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{Platform.Port("sandbox")}");
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(signed);
        var intruder = new Sandbox.V1.Sandbox.SandboxClient(bare);
        var (mine, theirs) = (Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
        // A value that would run a command if it were ever pasted into a shell line unquoted.
        var secret = $"sv-{Guid.NewGuid():N}'\"$(touch /tmp/pwned-{mine})`id`";
        await sandbox.CreateEnvironmentAsync(new Sandbox.V1.CreateEnvironmentRequest { EnvironmentId = mine, TaskId = "attack19" });
        await sandbox.CreateEnvironmentAsync(new Sandbox.V1.CreateEnvironmentRequest { EnvironmentId = theirs, TaskId = "attack19" });
        try
        {
            var set = new Sandbox.V1.SetAgentEnvironmentRequest { EnvironmentId = mine, Env = { ["E2E_ATTACK_SECRET"] = secret } };
            var refused = await Assert.ThrowsAsync<RpcException>(() => intruder.SetAgentEnvironmentAsync(set).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            var forged = new Metadata { { "x-rebench-principal", "service:scoring" }, { "x-rebench-role", "service" } };
            Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => intruder.SetAgentEnvironmentAsync(set, forged).ResponseAsync)).StatusCode);
            Assert.Equal("unset", await ExecAsync(sandbox, mine, "printf %s \"${E2E_ATTACK_SECRET-unset}\"")); // the refused calls set nothing

            await sandbox.SetAgentEnvironmentAsync(set); // control: with the service token it is set
            Assert.Equal(secret, await ExecAsync(sandbox, mine, "printf %s \"$E2E_ATTACK_SECRET\""));
            Assert.False(File.Exists($"/tmp/pwned-{mine}"));
            Assert.Equal("unset", await ExecAsync(sandbox, theirs, "printf %s \"${E2E_ATTACK_SECRET-unset}\"; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c E2E_ATTACK_SECRET >/dev/null && echo seen"));
            // The stored file is outside everything an agent command can reach.
            var found = await ExecAsync(sandbox, mine, "timeout 60 find / -name 'agent-env.json*' 2>/dev/null; grep -rlsF sv- ~ /tmp 2>/dev/null; true");
            Assert.Equal("", found.Trim());
            Assert.DoesNotContain(secret[..35], await File.ReadAllTextAsync(Path.Combine(Platform.LogsDir, "sandbox.log")));
        }
        finally
        {
            foreach (var id in new[] { mine, theirs })
                await sandbox.DestroyEnvironmentAsync(new Sandbox.V1.DestroyEnvironmentRequest { EnvironmentId = id });
        }
    }

    [Fact]
    public async Task A_dapr_secret_with_a_line_break_or_of_a_megabyte_stops_the_service_naming_it_and_a_clean_one_starts()
    {
        var key = TestPlatformKey.Key;
        var huge = Convert.ToBase64String(RandomNumberGenerator.GetBytes(768 * 1024)); // a valid key, of a megabyte
        foreach (var (name, value, why) in new[]
        {
            ("line break", key[..20] + "\n" + key[20..], "holds a line break or another control character"),
            ("header injection", key + "\r\nX-Injected: yes", "holds a line break or another control character"),
            ("huge", huge, $"is {huge.Length} characters long"),
        })
        {
            await using var dapr = await FakeDaprSidecar.StartAsync(new() { ["rebench-keys"] = new() { ["platform-key"] = value } });
            await using var scoring = ServiceProcess.Start("scoring", StartupEndToEndTests.ScoringSettings(Platform,
                StartupEndToEndTests.DaprSettings(dapr.Port, ("Platform:Key", "rebench-keys", "platform-key"))));
            var (code, output) = await scoring.ExitAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == 2, $"{name}: exit {code}: {output}");
            Assert.Contains($"scoring: cannot start: Dapr secret 'rebench-keys' (for Platform:Key, store '{StartupEndToEndTests.Store}') {why}", output);
            Assert.DoesNotContain(key[..20], output);
        }
        // Control: the same key, clean, starts.
        await using var cleanDapr = await FakeDaprSidecar.StartAsync(new() { ["rebench-keys"] = new() { ["platform-key"] = "  " + key + "\n" } });
        await using var clean = ServiceProcess.Start("scoring", StartupEndToEndTests.ScoringSettings(Platform,
            StartupEndToEndTests.DaprSettings(cleanDapr.Port, ("Platform:Key", "rebench-keys", "platform-key"))));
        await clean.WaitListeningAsync();
    }

    private static Microsoft.Playwright.Cookie Copy(BrowserContextCookiesResult cookie, string value) => new()
    {
        Name = cookie.Name, Value = value, Domain = cookie.Domain, Path = "/", Secure = true, HttpOnly = true, SameSite = SameSiteAttribute.Strict,
    };

    private static async Task<string> ExecAsync(Sandbox.V1.Sandbox.SandboxClient client, string environmentId, string command)
    {
        using var call = client.Exec(new Sandbox.V1.ExecRequest { EnvironmentId = environmentId, Command = command, TimeoutSeconds = 120 });
        var stdout = new StringBuilder();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == Sandbox.V1.ExecEvent.EventOneofCase.Stdout) stdout.Append(e.Stdout.ToStringUtf8());
        return stdout.ToString();
    }
}
