using System.Text;

namespace ReBench.Sandbox.Tests;

/// <summary>One ExecInteractive call: collects what the terminal shows and lets a test type into it.</summary>
internal sealed class TerminalSession : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<TerminalInput, TerminalOutput> _call;
    private readonly StringBuilder _screen = new();
    private readonly Task _reader;
    private readonly CancellationTokenSource _cts = new();

    private TerminalSession(AsyncDuplexStreamingCall<TerminalInput, TerminalOutput> call)
    {
        _call = call;
        _reader = Task.Run(async () =>
        {
            await foreach (var o in _call.ResponseStream.ReadAllAsync())
            {
                lock (_screen)
                {
                    if (o.OutputCase == TerminalOutput.OutputOneofCase.Data) _screen.Append(Encoding.UTF8.GetString(o.Data.Span));
                    else Exit = o.Exit;
                }
            }
        });
    }

    public ExecExit? Exit { get; private set; }
    public string Screen { get { lock (_screen) return _screen.ToString(); } }
#pragma warning disable VSTHRD003 // this session's own reader loop, started in its constructor
    public Task Reader => _reader;
#pragma warning restore VSTHRD003

    public static async Task<TerminalSession> OpenAsync(V1.Sandbox.SandboxClient client, TerminalOpen open)
    {
        var session = new TerminalSession(client.ExecInteractive());
        await session._call.RequestStream.WriteAsync(new TerminalInput { Open = open });
        return session;
    }

    public Task TypeAsync(string text) => _call.RequestStream.WriteAsync(new TerminalInput { Stdin = ByteString.CopyFromUtf8(text) });
    public Task ResizeAsync(int rows, int cols) => _call.RequestStream.WriteAsync(new TerminalInput { Resize = new TerminalResize { Rows = rows, Cols = cols } });
    public Task EofAsync() => _call.RequestStream.WriteAsync(new TerminalInput { Eof = true });
    public void Cancel() => _call.Dispose();

    public async Task<string> WaitForAsync(string text, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (Screen.Contains(text, StringComparison.Ordinal)) return Screen;
            if (_reader.IsCompleted) break;
            await Task.Delay(50);
        }
        Assert.Fail($"'{text}' did not appear on the terminal; it shows:\n{Screen}");
        return "";
    }

    public async Task<ExecExit> ExitAsync(int seconds = 30)
    {
        await _reader.WaitAsync(TimeSpan.FromSeconds(seconds));
        return Exit ?? throw new Xunit.Sdk.XunitException($"the call ended without an exit; terminal:\n{Screen}");
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
#pragma warning disable VSTHRD003 // this session's own reader loop, started in its constructor
        try { await _reader; } catch (RpcException) { }
#pragma warning restore VSTHRD003
        _cts.Dispose();
    }
}

public abstract class InteractiveExecTests(SandboxFixture sandbox, bool isolated)
{
    [Fact]
    public async Task Tty_is_a_terminal_input_is_echoed_and_the_exit_code_comes_back()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen { EnvironmentId = env, Rows = 30, Cols = 100 });
        await t.TypeAsync("tty; stty size; id -u; echo marker-$((6*7))\n");
        var screen = await t.WaitForAsync("marker-42");
        Assert.Matches(@"/dev/pts/\d+", screen);
        Assert.Contains("30 100", screen);
        Assert.Contains("echo marker-$((6*7))", screen); // the terminal echoed what was typed
        var uid = screen.Split('\n').Select(l => l.Trim()).First(l => l.Length > 0 && l.All(char.IsAsciiDigit));
        if (isolated) Assert.NotEqual("0", uid);
        await t.TypeAsync("exit 7\n");
        Assert.Equal(7, (await t.ExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Python_repl_works_and_ctrl_d_ends_it_and_the_shell()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen { EnvironmentId = env });
        await t.TypeAsync("python3 -q\n");
        await t.WaitForAsync(">>> ");
        await t.TypeAsync("print(sum(range(10)) * 1000)\n");
        await t.WaitForAsync("45000");
        await t.TypeAsync("\u0004"); // ctrl-D: python exits
        await t.TypeAsync("echo back-in-$((40+2))\n");
        await t.WaitForAsync("back-in-42\r\n"); // bash's output, not the terminal's echo of the typed line
        // ctrl-D: bash exits. A ctrl-D that arrives while bash switches its terminal mode between commands can be
        // taken as a plain character, so it is typed again if bash has not exited a few seconds later.
        for (var i = 0; i < 5 && !t.Reader.IsCompleted; i++)
        {
            await t.TypeAsync("\u0004");
            await Task.WhenAny(t.Reader, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        Assert.Equal(0, (await t.ExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Resize_changes_the_terminal_size()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen { EnvironmentId = env });
        await t.TypeAsync("echo ready\n");
        await t.WaitForAsync("ready\r\n");
        await t.ResizeAsync(41, 123);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!t.Screen.Contains("41 123") && DateTime.UtcNow < until)
        {
            await t.TypeAsync("stty size\n");
            await Task.Delay(300);
        }
        Assert.Contains("41 123", t.Screen);
    }

    [Fact]
    public async Task Cancelling_the_call_kills_the_process_tree()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = Random.Shared.Next(100000, 999999).ToString();
        var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen { EnvironmentId = env });
        await t.TypeAsync($"sleep {marker} & sleep {marker}1\n");
        var until = DateTime.UtcNow.AddSeconds(30);
        while (Sleepers(marker) < 2 && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.Equal(2, Sleepers(marker));
        t.Cancel();
        until = DateTime.UtcNow.AddSeconds(30);
        while (Sleepers(marker) > 0 && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.Equal(0, Sleepers(marker));
        await t.DisposeAsync();
    }

    [Fact]
    public async Task Stdin_streams_line_by_line_to_a_command_and_eof_ends_it()
    {
        var env = await sandbox.NewEnvironmentAsync();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen
        {
            EnvironmentId = env, Command = "while read -r l; do echo \"got:$l\"; done; echo stdin-closed; exit 3",
        });
        await t.TypeAsync("first\n");
        await t.WaitForAsync("got:first"); // answered before any further input: streamed, not buffered to the end
        await t.TypeAsync("second\n");
        await t.WaitForAsync("got:second");
        await t.EofAsync();
        await t.WaitForAsync("stdin-closed");
        Assert.Equal(3, (await t.ExitAsync()).ExitCode);
    }

    [Fact]
    public async Task Timeout_kills_the_terminal_process_tree()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var marker = Random.Shared.Next(100000, 999999).ToString();
        await using var t = await TerminalSession.OpenAsync(sandbox.Client, new TerminalOpen
        {
            EnvironmentId = env, TimeoutSeconds = 3, Command = $"setsid sleep {marker}2 & sleep {marker}1 & echo started; sleep {marker}",
        });
        await t.WaitForAsync("started");
        var exit = await t.ExitAsync(60);
        Assert.True(exit.TimedOut);
        Assert.Equal(124, exit.ExitCode);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (Sleepers(marker) > 0 && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.Equal(0, Sleepers(marker));
    }

    [Fact]
    public async Task Bad_opening_messages_are_refused()
    {
        using (var call = sandbox.Client.ExecInteractive())
        {
            await call.RequestStream.WriteAsync(new TerminalInput { Stdin = ByteString.CopyFromUtf8("ls\n") });
            await call.RequestStream.CompleteAsync();
            var e = await Assert.ThrowsAsync<RpcException>(async () => { await foreach (var _ in call.ResponseStream.ReadAllAsync()) { } });
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("open", e.Status.Detail);
        }
        using (var call = sandbox.Client.ExecInteractive())
        {
            await call.RequestStream.WriteAsync(new TerminalInput { Open = new TerminalOpen { EnvironmentId = "nosuchenv" } });
            var e = await Assert.ThrowsAsync<RpcException>(async () => { await foreach (var _ in call.ResponseStream.ReadAllAsync()) { } });
            Assert.Equal(StatusCode.NotFound, e.StatusCode);
        }
        var env = await sandbox.NewEnvironmentAsync();
        using (var call = sandbox.Client.ExecInteractive())
        {
            await call.RequestStream.WriteAsync(new TerminalInput { Open = new TerminalOpen { EnvironmentId = env, Rows = -1 } });
            var e = await Assert.ThrowsAsync<RpcException>(async () => { await foreach (var _ in call.ResponseStream.ReadAllAsync()) { } });
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }
    }

    private static int Sleepers(string marker) =>
        Directory.EnumerateDirectories("/proc").Count(d =>
        {
            try { return File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ').StartsWith($"sleep {marker}", StringComparison.Ordinal); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        });
}

public sealed class IsolatedInteractiveExecTests(IsolatedSandboxFixture sandbox)
    : InteractiveExecTests(sandbox, isolated: true), IClassFixture<IsolatedSandboxFixture>;

public sealed class UnisolatedInteractiveExecTests(UnisolatedSandboxFixture sandbox)
    : InteractiveExecTests(sandbox, isolated: false), IClassFixture<UnisolatedSandboxFixture>;
