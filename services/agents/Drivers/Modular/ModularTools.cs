using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.AI;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Modular;

/// <summary>What one tool call did: the text the model is shown, and whether it ended the task.</summary>
public sealed record ToolOutcome(string Text, bool Submitted = false, bool IsError = false);

/// <summary>
/// The Modular scaffold's tools (bash, python, score, score_log, submit) as function tools, each carried out through
/// the attempt-session API. A call the scaffold cannot carry out (unknown tool, arguments that are not valid JSON or
/// lack a field) is answered to the model as an error text, never thrown.
/// </summary>
public sealed class ModularTools(ResumableSteps session)
{
    private int _snippets;

    public static IList<AITool> Declarations { get; } =
    [
        Declare("bash", "Run a bash command in your home directory. Returns exit code, stdout and stderr.", """
            {"type":"object","properties":{
              "command":{"type":"string","description":"the command, run with bash -c"},
              "timeout":{"type":"integer","description":"seconds before the command is killed (default 10, at most 1440)"}},
             "required":["command"]}
            """),
        Declare("python", "Run Python 3 code (saved to a file, then run with python3). Returns exit code, stdout and stderr.", """
            {"type":"object","properties":{
              "code":{"type":"string","description":"the Python source"},
              "timeout":{"type":"integer","description":"seconds before it is killed (default 10, at most 1440)"}},
             "required":["code"]}
            """),
        Declare("score", "Score your current solution with the task's official scorer. Returns the score and the scorer's message.",
            """{"type":"object","properties":{}}"""),
        Declare("score_log", "List the scores recorded so far in this task.", """{"type":"object","properties":{}}"""),
        Declare("submit", "End the task and submit. Call it only when you are done: no further actions are possible.", """
            {"type":"object","properties":{"submission":{"type":"string","description":"a final answer, if the task asks for one"}}}
            """),
    ];

    public static IReadOnlyList<string> Names { get; } = ["bash", "python", "score", "score_log", "submit"];

    public async Task<ToolOutcome> ExecuteAsync(FunctionCallContent call, CancellationToken ct)
    {
        if (call.Exception is { } bad)
            return Error($"the arguments of your call to '{call.Name}' could not be parsed as a JSON object ({bad.Message}). Call the tool again with valid JSON arguments.");
        var args = call.Arguments ?? new Dictionary<string, object?>();
        try
        {
            return call.Name switch
            {
                "bash" => await RunAsync(Required(args, "command"), Timeout(args), ct),
                "python" => await PythonAsync(Required(args, "code"), Timeout(args), ct),
                "score" => Format(await session.ScoreAsync(ct)),
                "score_log" => Format(await session.ScoreLogAsync(ct)),
                "submit" => Submitted(await session.SubmitAsync(Optional(args, "submission") ?? "", ct)),
                _ => Error($"there is no tool '{call.Name}'. The tools are: {string.Join(", ", Names)}."),
            };
        }
        catch (ToolArgumentException e)
        {
            return Error($"{call.Name}: {e.Message}");
        }
    }

    private async Task<ToolOutcome> RunAsync(string command, (int Seconds, string? Note) timeout, CancellationToken ct)
    {
        var result = await session.RunAsync(command, timeout.Seconds, ct);
        return new ToolOutcome((timeout.Note is null ? "" : timeout.Note + "\n") + Format(result, timeout.Seconds));
    }

    private async Task<ToolOutcome> PythonAsync(string code, (int Seconds, string? Note) timeout, CancellationToken ct)
    {
        var path = $".modular/snippet_{Interlocked.Increment(ref _snippets)}.py";
        var written = await session.WriteFileAsync(path, ByteString.CopyFromUtf8(code), ct);
        if (!string.IsNullOrEmpty(written.Error)) return Error($"python: could not save the code: {written.Error}");
        return await RunAsync($"python3 {path}", timeout, ct);
    }

    private static string Format(ActResult r, int timeoutSeconds)
    {
        if (!string.IsNullOrEmpty(r.Error)) return $"error: {r.Error}";
        var sb = new StringBuilder();
        sb.Append(r.TimedOut ? $"timed out after {timeoutSeconds} s (killed)" : $"exit code {r.ExitCode}");
        if (r.OutputElidedBytes > 0) sb.Append(CultureInfo.InvariantCulture, $"; {r.OutputElidedBytes} bytes of output were not kept by the sandbox");
        if (r.Stdout.Length > 0) sb.Append("\nstdout:\n").Append(r.Stdout);
        if (r.Stderr.Length > 0) sb.Append("\nstderr:\n").Append(r.Stderr);
        return OutputFormat.HeadTail(sb.ToString());
    }

    private static ToolOutcome Format(ScoreResult s) => new(Describe(s));

    private static string Describe(ScoreResult s)
    {
        var score = !s.ScoreVisible ? "hidden" : s.Valid ? s.RawScore.ToString("G6", CultureInfo.InvariantCulture) : "invalid";
        return $"score: {score} (at {WorkClock.Format(TimeSpan.FromMilliseconds(s.ElapsedMs))}); message: {s.MessageJson}";
    }

    private static ToolOutcome Format(ScoreLogResponse log) => new(log.Entries.Count == 0
        ? "no scores recorded yet"
        : string.Join('\n', log.Entries.Select((e, i) => $"{i + 1}. {Describe(e)}")));

    private static ToolOutcome Submitted(SubmitResult r) => new(
        $"submitted; final score {(r.FinalScoreValid ? r.RawScore.ToString("G6", CultureInfo.InvariantCulture) : "invalid")}", Submitted: true);

    private static ToolOutcome Error(string message) => new($"Error: {message}", IsError: true);

    /// <summary>The timeout in seconds (default 10, at most 24 min), and a note to the model when its value was changed.</summary>
    private static (int, string?) Timeout(IDictionary<string, object?> args)
    {
        if (!args.TryGetValue("timeout", out var v) || v is null) return (ModularPrompts.DefaultTimeoutSeconds, null);
        var seconds = v switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetDouble(out var d) => d,
            JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), CultureInfo.InvariantCulture, out var d) => d,
            IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
            _ => throw new ToolArgumentException("'timeout' must be a number of seconds"),
        };
        if (seconds < 1) return (1, "note: timeout raised to 1 s");
        if (seconds > ModularPrompts.MaxTimeoutSeconds)
            return (ModularPrompts.MaxTimeoutSeconds, $"note: timeout lowered to the maximum, {ModularPrompts.MaxTimeoutSeconds} s; run longer jobs in the background");
        return ((int)Math.Ceiling(seconds), null);
    }

    private static string Required(IDictionary<string, object?> args, string name) =>
        Optional(args, name) is { Length: > 0 } s ? s : throw new ToolArgumentException($"the argument '{name}' (a non-empty string) is required");

    private static string? Optional(IDictionary<string, object?> args, string name) =>
        !args.TryGetValue(name, out var v) || v is null ? null : v switch
        {
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement { ValueKind: JsonValueKind.Null } => null,
            JsonElement => throw new ToolArgumentException($"the argument '{name}' must be a string"),
            string s => s,
            _ => throw new ToolArgumentException($"the argument '{name}' must be a string"),
        };

    private static AITool Declare(string name, string description, string schema) =>
        AIFunctionFactory.CreateDeclaration(name, description, JsonDocument.Parse(schema).RootElement.Clone());

    private sealed class ToolArgumentException(string message) : Exception(message);
}
