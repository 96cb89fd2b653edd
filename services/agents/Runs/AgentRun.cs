using ReBench.Agents.Session;

namespace ReBench.Agents.Runs;

public enum RunState { Running, Finished, Failed, Stopped }

/// <summary>One driver run for one attempt. State changes only once, from Running to its end state.</summary>
public sealed class AgentRun(Guid attemptId, string agent, SessionClient session, CancellationTokenSource cancellation)
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _error;
    private volatile int _state = (int)RunState.Running;

    public Guid AttemptId { get; } = attemptId;
    public string Agent { get; } = agent;
    public SessionClient Session { get; } = session;
    public RunState State => (RunState)_state;
    public string? Error => _error;
    public int Steps => Session.Steps;
#pragma warning disable VSTHRD003 // the signal this run completes itself; no SynchronizationContext here for a waiter to deadlock on
    public Task Ended => _ended.Task;
#pragma warning restore VSTHRD003
    internal CancellationTokenSource Cancellation { get; } = cancellation;

    internal void End(RunState state, string? error = null)
    {
        _error = error;
        _state = (int)state;
        _ended.TrySetResult();
    }
}
