using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// The local end of OpenTerminal: the local tty in raw mode (when stdin is a terminal) or piped stdin, forwarded as
/// keystrokes; the remote terminal's bytes written to stdout. Escapes at the start of a line (as in ssh): ~. leave,
/// ~s score, ~l score log, ~p pause, ~r resume, ~S submit, ~? help, ~~ a literal ~.
/// </summary>
internal static class HumanTerminalClient
{
    private const string Help = "escapes at the start of a line: ~. leave  ~s score  ~l score log  ~p pause clock  ~r resume clock  ~S submit  ~~ a ~";

    public static async Task<int> RunAsync(PlatformClient client, string attemptId, TextWriter _, CancellationToken ct)
    {
        var interactive = !Console.IsInputRedirected;
        var saved = interactive ? Stty("-g")?.Trim() : null;
        if (interactive) Stty("raw -echo");
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var call = client.HumanBaselines.OpenTerminal(cancellationToken: leave.Token);
        // One write at a time on the request stream (gRPC refuses a second pending write): resize, input and end of input.
        using var writes = new SemaphoreSlim(1, 1);
        var (rows, cols) = interactive ? SafeSize() : (24, 80);
        await call.RequestStream.WriteAsync(new HumanTerminalInput { Open = new HumanTerminalOpen { AttemptId = attemptId, Rows = rows, Cols = cols } }, ct);
        using var winch = interactive && !OperatingSystem.IsWindows() ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
        {
            var (r, c) = SafeSize();
            Resize(writes, call, new HumanTerminalInput { Resize = new HumanTerminalSize { Rows = r, Cols = c } }, leave.Token);
        }) : null;
        Note(interactive, $"connected to attempt {attemptId}; {Help}");

        var escape = new StrongBox<Task>(Task.CompletedTask);
        var pump = Task.Run(() => PumpInputAsync(client, call, writes, attemptId, interactive, leave, escape, ct), CancellationToken.None);
        try
        {
            var stdout = Console.OpenStandardOutput();
            await foreach (var o in call.ResponseStream.ReadAllAsync(leave.Token))
            {
                if (o.OutputCase == HumanTerminalOutput.OutputOneofCase.Data)
                {
                    await stdout.WriteAsync(o.Data.Memory, leave.Token);
                    await stdout.FlushAsync(leave.Token);
                }
                else if (o.OutputCase == HumanTerminalOutput.OutputOneofCase.Exit)
                {
                    Note(interactive, $"terminal closed: {o.Exit.Reason} (exit {o.Exit.ExitCode})");
                }
            }
        }
        catch (Exception e) when (leave.IsCancellationRequested && !ct.IsCancellationRequested && e is OperationCanceledException or RpcException)
        {
            Note(interactive, "left the terminal; the attempt goes on (rebench human terminal " + attemptId + " to come back)");
        }
        finally
        {
            await leave.CancelAsync();
            // An escape in flight (typically ~S, whose submission is what ended the terminal) finishes and prints its result.
            // (Only the escape is awaited: a read of stdin may not give way to cancellation.)
            try { await escape.Value!.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None); }
            catch (TimeoutException) { }
            if (saved is { Length: > 0 }) Stty(saved);
        }
        // The shell's own exit code is printed above; the CLI's follows the table (ExitCodes): the session ran.
        return ExitCodes.Ok;
    }

    private static async Task PumpInputAsync(PlatformClient client, AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call,
        SemaphoreSlim writes, string attemptId, bool interactive, CancellationTokenSource leave, StrongBox<Task> escape, CancellationToken ct)
    {
        var stdin = Console.OpenStandardInput();
        var buffer = new byte[4096];
        var lineStart = true;
        var tilde = false;
        try
        {
            int n;
            while ((n = await stdin.ReadAsync(buffer, leave.Token)) > 0)
            {
                var send = new MemoryStream();
                for (var i = 0; i < n; i++)
                {
                    var b = buffer[i];
                    if (tilde)
                    {
                        tilde = false;
                        if (b == (byte)'~') { send.WriteByte(b); lineStart = false; continue; }
                        if (b == (byte)'.') { await leave.CancelAsync(); return; }
                        // The command's own token, not the terminal's: a submit that ends the terminal still gets its answer.
                        var running = EscapeAsync(client, attemptId, (char)b, interactive, ct);
                        escape.Value = running;
                        if (await running) continue;
                        send.WriteByte((byte)'~');
                    }
                    else if (lineStart && b == (byte)'~')
                    {
                        await SendAsync(writes, call, send, leave.Token);
                        tilde = true;
                        continue;
                    }
                    send.WriteByte(b);
                    lineStart = b is (byte)'\r' or (byte)'\n';
                }
                await SendAsync(writes, call, send, leave.Token);
            }
            await WriteAsync(writes, call, new HumanTerminalInput { Eof = true }, leave.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException or AggregateException)
        {
            // The call ended (the shell exited or the attempt ended); the output side reports why.
        }
    }

    /// <summary>Runs one escape command; false when the character is not one (the ~ and it are then sent as typed).</summary>
    private static async Task<bool> EscapeAsync(PlatformClient client, string attemptId, char c, bool interactive, CancellationToken ct)
    {
        var request = new HumanStepRequest { AttemptId = attemptId };
        try
        {
            var text = c switch
            {
                's' => HumanText.Score(await client.HumanBaselines.HumanScoreAsync(request, cancellationToken: ct)),
                'l' => HumanText.Log(await client.HumanBaselines.HumanScoreLogAsync(request, cancellationToken: ct)),
                'p' => HumanText.Clock(await client.HumanBaselines.HumanPauseClockAsync(new HumanStepRequest { AttemptId = attemptId, Reason = "break" }, cancellationToken: ct)),
                'r' => HumanText.Clock(await client.HumanBaselines.HumanResumeClockAsync(request, cancellationToken: ct)),
                'S' => HumanText.Submit(await client.HumanBaselines.HumanSubmitAsync(request, cancellationToken: ct)),
                '?' => Help,
                _ => null,
            };
            if (text is null) return false;
            Note(interactive, text);
        }
        catch (RpcException e)
        {
            Note(interactive, $"~{c}: {e.StatusCode}: {e.Status.Detail}");
        }
        return true;
    }

    private static async Task SendAsync(SemaphoreSlim writes, AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call, MemoryStream send,
        CancellationToken ct)
    {
        if (send.Length == 0) return;
        var message = new HumanTerminalInput { Stdin = ByteString.CopyFrom(send.GetBuffer(), 0, (int)send.Length) };
        send.SetLength(0);
        await WriteAsync(writes, call, message, ct);
    }

    private static async Task WriteAsync(SemaphoreSlim writes, AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call, HumanTerminalInput message,
        CancellationToken ct)
    {
        await writes.WaitAsync(ct);
        try { await call.RequestStream.WriteAsync(message, ct); }
        finally { writes.Release(); }
    }

    /// <summary>From the SIGWINCH handler, which cannot wait: the write goes on alone and a resize after the call ended is dropped.</summary>
    private static void Resize(SemaphoreSlim writes, AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call, HumanTerminalInput message,
        CancellationToken ct) => _ = ResizeAsync(writes, call, message, ct);

    private static async Task ResizeAsync(SemaphoreSlim writes, AsyncDuplexStreamingCall<HumanTerminalInput, HumanTerminalOutput> call, HumanTerminalInput message,
        CancellationToken ct)
    {
        try { await WriteAsync(writes, call, message, ct); }
        catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException or ObjectDisposedException) { }
    }

    /// <summary>Messages of the CLI itself go to stderr, with \r\n while the tty is raw.</summary>
    private static void Note(bool interactive, string text) =>
        Console.Error.Write($"[rebench] {text.Replace("\n", interactive ? "\r\n" : "\n")}{(interactive ? "\r\n" : "\n")}");

    private static (int Rows, int Cols) SafeSize()
    {
        try { return (Math.Clamp(Console.WindowHeight, 1, 1000), Math.Clamp(Console.WindowWidth, 1, 1000)); }
        catch (IOException) { return (24, 80); }
    }

    /// <summary>stty on the inherited tty (stdin), for raw mode and its restore.</summary>
    private static string? Stty(string args)
    {
        try
        {
            var info = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
