using System.Diagnostics;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using ReBench.Testing;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The web console (services/console) as a process in front of the test platform's gateway, and Debian's chromium
/// driven by Playwright (no browser download: the executable is the system's). Screenshots go under the test output.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly Process _process;
    private readonly string _log;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public string Url { get; }
    public static string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    private ConsoleBrowser(Process process, string url, string log)
    {
        _process = process;
        Url = url;
        _log = log;
    }

    public static async Task<ConsoleBrowser> StartAsync(PlatformProcesses platform)
    {
        var configuration = typeof(ConsoleBrowser).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        var dll = Path.Combine(TestEnv.RepoRoot, "services", "console", "bin", configuration, "net10.0", "ReBench.Console.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build services/console first");
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: scripts/lib/infra.sh installs Debian's chromium");
        var port = TestEnv.FreePort();
        var log = Path.Combine(platform.LogsDir, "console.log");
        var psi = new ProcessStartInfo("dotnet", [dll]);
        psi.Environment["Service__Port"] = port.ToString();
        psi.Environment["Services__Gateway"] = $"http://127.0.0.1:{platform.Port("gateway")}";
        var p = PlatformProcesses.StartLogged(psi, log);
        var console = new ConsoleBrowser(p, $"http://127.0.0.1:{port}", log);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (p.HasExited) throw new InvalidOperationException($"the console exited with {p.ExitCode}:\n{console.LogTail()}");
            try
            {
                if ((await http.GetAsync($"{console.Url}/healthz")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(200);
        }
        console._playwright = await Playwright.CreateAsync();
        console.Browser = await console._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
        Directory.CreateDirectory(ScreenshotDir);
        return console;
    }

    public string LogTail() => File.Exists(_log) ? string.Join('\n', File.ReadLines(_log).TakeLast(40)) : "(no log)";

    /// <summary>A fresh browser context (its own cookies) signed in with <paramref name="apiKey"/>.</summary>
    public async Task<IPage> SignedInAsync(string apiKey)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.FillAsync("#apiKey", apiKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{Url}/");
        return page;
    }

    public static async Task<string> ShotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDir, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>axe-core's serious and critical violations on the page, one line each (empty when none).</summary>
    public static async Task<List<string>> SeriousViolationsAsync(IPage page)
    {
        AxeResult result = await page.RunAxe();
        return [.. result.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Impact} {v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Take(3).Select(n => n.Html))})")];
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
