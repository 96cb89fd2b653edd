using System.Collections.Concurrent;

namespace ReBench.Sandbox.Local;

/// <summary>One environment directory and the process groups its Execs started.</summary>
internal sealed class LocalEnvironment(string id, string directory)
{
    private readonly ConcurrentDictionary<int, byte> _groups = new();
    private volatile bool _destroyed;

    public string Id { get; } = id;
    public string Directory { get; } = directory;
    public string Home => Path.Combine(Directory, "home");
    public string Protected => Path.Combine(Directory, "protected");
    public bool Destroyed => _destroyed;

    /// <summary>What the isolation keeps for this environment (see Isolation/), or null.</summary>
    public object? Isolation { get; set; }

    /// <summary>The task variables agent commands get (LocalEnvironmentDriver.SetAgentEnvironmentAsync); null: not read yet.</summary>
    public IReadOnlyDictionary<string, string>? AgentEnv { get; set; }

    public void Track(int pgid) => _groups[pgid] = 0;

    private readonly object _scoring = new();
    private int _scorers;

    /// <summary>A scorer run starts; waits while the last one's leftovers are being killed.</summary>
    public void ScoringStarted()
    {
        lock (_scoring) _scorers++;
    }

    /// <summary>A scorer run ended; when it was the last one, <paramref name="cleanUp"/> runs before any new one starts.</summary>
    public void ScoringEnded(Action cleanUp)
    {
        lock (_scoring)
        {
            if (--_scorers == 0) cleanUp();
        }
    }

    /// <summary>Forgets a group once nothing is left in it, so Destroy never signals a recycled pid.</summary>
    public void ForgetIfEmpty(int pgid)
    {
        if (!ProcessKiller.GroupAlive(pgid)) _groups.TryRemove(pgid, out _);
    }

    public void KillAll()
    {
        _destroyed = true;
        foreach (var pgid in _groups.Keys) ProcessKiller.KillGroup(pgid);
        _groups.Clear();
        ProcessKiller.KillByWorkingDirectory(Directory);
    }
}
