using ReBench.Agents.Llm;
using ReBench.Agents.Session;

namespace ReBench.Agents.Drivers.Modular;

/// <summary>
/// The agent's view of its working time: wall time since the run started minus the waits paused on the attempt's
/// clock. It is also the run's <see cref="IClockPauser"/>, so every pause goes through the orchestrator and here.
/// </summary>
public sealed class WorkClock(SessionClient session, TimeProvider time, TimeSpan? budget, TimeSpan usedBefore = default) : IClockPauser
{
    private readonly long _started = time.GetTimestamp();
    private long? _pausedAt;
    private TimeSpan _paused;

    public TimeSpan? Budget { get; } = budget;
    /// <summary>Working time an earlier run of the attempt used (a resumed run), from the orchestrator's clock.</summary>
    public TimeSpan Used => usedBefore + time.GetElapsedTime(_started) - _paused - (_pausedAt is { } p ? time.GetElapsedTime(p) : TimeSpan.Zero);
    public TimeSpan? Left => Budget is { } b ? (b - Used < TimeSpan.Zero ? TimeSpan.Zero : b - Used) : null;

    public async Task PauseAsync(string reason, CancellationToken ct)
    {
        await session.PauseClockAsync(reason, ct);
        _pausedAt ??= time.GetTimestamp();
    }

    public async Task ResumeAsync(CancellationToken ct)
    {
        await session.ResumeClockAsync(ct);
        if (_pausedAt is { } p) _paused += time.GetElapsedTime(p);
        _pausedAt = null;
    }

    public string Describe() => Left is { } left
        ? $"Time used: {Format(Used)} of {Format(Budget!.Value)}; time left: {Format(left)}."
        : $"Time used: {Format(Used)} (no time limit).";

    public static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m {t.Seconds:00}s" : $"{t.TotalSeconds:0}s";
}
