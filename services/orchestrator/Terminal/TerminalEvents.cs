using ReBench.Orchestrator.Attempts;

namespace ReBench.Orchestrator.Terminal;

/// <summary>A human opened a terminal into a `human` attempt's environment (one session id per OpenTerminal call).</summary>
public sealed record TerminalSessionOpened(Guid AttemptId, string SessionId, int Rows, int Cols, string Principal, DateTimeOffset At);

/// <summary>
/// What the human typed, batched: a batch ends at Enter (a line, usually one command), at
/// <see cref="TerminalRecording.MaxInputBatchBytes"/>, or after a quiet interval. Raw keystrokes, control characters
/// included (UTF-8; NUL replaced), so an auditor sees edits and ctrl-C as typed.
/// </summary>
public sealed record TerminalInputRecorded(Guid AttemptId, string SessionId, int Sequence, string Text, int Bytes, DateTimeOffset At);

/// <summary>
/// What the terminal showed, batched (at most <see cref="TerminalRecording.MaxOutputBatchBytes"/> per event). Past the
/// session's output cap nothing more is kept, only counted: <see cref="TerminalSessionClosed.OutputDroppedBytes"/>.
/// </summary>
public sealed record TerminalOutputRecorded(Guid AttemptId, string SessionId, int Sequence, string Text, int Bytes, DateTimeOffset At);

/// <summary>The terminal ended: the shell exited, the human left, or the attempt ended.</summary>
public sealed record TerminalSessionClosed(
    Guid AttemptId, string SessionId, int ExitCode, string Reason, long InputBytes, long OutputBytes, long OutputDroppedBytes, DateTimeOffset At);

/// <summary>Limits and rules of the terminal events (one feature per folder).</summary>
public static class TerminalRecording
{
    public const int MaxInputBatchBytes = 4 * 1024;
    public const int MaxOutputBatchBytes = 16 * 1024;
    public const long DefaultMaxOutputBytesPerSession = 4L * 1024 * 1024;

    public static readonly Type[] EventTypes =
        [typeof(TerminalSessionOpened), typeof(TerminalInputRecorded), typeof(TerminalOutputRecorded), typeof(TerminalSessionClosed)];

    /// <summary>Terminal records go only into a started attempt that has not ended: once it has (and is sealed) they are dropped.</summary>
    public static object[] Record(AttemptState s, params object[] events) =>
        s.Phase is AttemptPhase.Running or AttemptPhase.Finalizing ? events : [];
}
