using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ReBench.WebConsole.Sessions;

public enum ConsoleRole { Admin, Auditor }

/// <summary>A signed-in user: the API key stays here, in this process's memory, and is never sent to the browser.</summary>
public sealed class ConsoleSession(string apiKey, ConsoleRole role)
{
    public string ApiKey { get; } = apiKey;
    public ConsoleRole Role { get; } = role;
    public bool IsAdmin => Role == ConsoleRole.Admin;
    public string RoleName => Role == ConsoleRole.Admin ? "admin" : "auditor";
    public DateTimeOffset LastSeen { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Sessions by an opaque random id (the cookie's only content). Idle sessions expire, so a key left signed in on a
/// forgotten tab does not stay usable forever; a restart of the console signs everyone out.
/// </summary>
public sealed class SessionStore(TimeProvider time)
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);
    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);

    public string Create(ConsoleSession session)
    {
        // 256 bits from the system CSPRNG: not guessable, and it says nothing about the key or the user.
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        session.LastSeen = time.GetUtcNow();
        _sessions[id] = session;
        return id;
    }

    public ConsoleSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || !_sessions.TryGetValue(id, out var session)) return null;
        var now = time.GetUtcNow();
        if (now - session.LastSeen > IdleTimeout)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.LastSeen = now;
        return session;
    }

    public void End(string? id)
    {
        if (!string.IsNullOrEmpty(id)) _sessions.TryRemove(id, out _);
    }
}
