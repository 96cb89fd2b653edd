using System.Buffers.Text;
using System.Collections.Concurrent;

namespace ReBench.Orchestrator.Supervision;

/// <summary>
/// The stored half of an attempt's session credential: only the SHA-256 of the value handed to the driver, so that
/// neither the database nor a dump of it lets anyone act in the attempt. One document per attempt; a relaunch
/// overwrites it, which is what makes the replaced credential stop working.
/// </summary>
public sealed class SessionCredentialRecord
{
    public Guid Id { get; set; }
    public string Sha256 { get; set; } = "";
    /// <summary>1 for the first launch, +1 for each relaunch: tells an operator how often the credential was replaced.</summary>
    public int Generation { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
}

/// <summary>
/// Mints and checks per-attempt session credentials (issue 16): the attempt id alone is not proof of being its driver.
/// A credential is minted each time the agent is launched and handed to the agents service in StartRun; the driver
/// sends it on every AttemptSession call (header <see cref="Header"/>).
/// </summary>
public sealed class SessionCredentials(IDocumentStore store, TimeProvider time)
{
    public const string Header = "x-rebench-session";
    private const int SecretBytes = 32;
    /// <summary>URL-safe base64 of 32 bytes without padding.</summary>
    public const int EncodedLength = 43;

    // Hashes by attempt, so the check on every Act costs a hash and a compare, not a database read. One orchestrator
    // writes them (the event daemon runs Solo), so this process's cache holds the current hash of every attempt it
    // launched; an attempt it has not seen (after a restart) is read from the store once.
    private readonly ConcurrentDictionary<Guid, byte[]> _hashes = new();

    /// <summary>Mints a new credential for the attempt, replacing any earlier one, and returns the plain value.</summary>
    public async Task<string> IssueAsync(Guid attemptId, CancellationToken ct)
    {
        var plain = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var hash = Hash(plain);
        await using (var session = store.LightweightSession())
        {
            var earlier = await session.LoadAsync<SessionCredentialRecord>(attemptId, ct);
            session.Store(new SessionCredentialRecord
            {
                Id = attemptId, Sha256 = Convert.ToHexStringLower(hash), Generation = (earlier?.Generation ?? 0) + 1, IssuedAt = time.GetUtcNow(),
            });
            await session.SaveChangesAsync(ct);
        }
        // Stored before it is cached and before anyone is given it: a driver never holds a credential the store lacks.
        _hashes[attemptId] = hash;
        return plain;
    }

    /// <summary>The shape of a minted credential; anything else is malformed, whatever the attempt.</summary>
    public static bool IsWellFormed(string? presented) =>
        presented is { Length: EncodedLength } && presented.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>
    /// Whether <paramref name="presented"/> (well-formed) is the attempt's current credential. Compared in constant time
    /// on the hashes, so the time taken says nothing about how much of it matched.
    /// </summary>
    public async ValueTask<bool> MatchesAsync(Guid attemptId, string presented, CancellationToken ct)
    {
        var hash = Hash(presented);
        if (_hashes.TryGetValue(attemptId, out var known)) return CryptographicOperations.FixedTimeEquals(known, hash);
        await using var query = store.QuerySession();
        var record = await query.LoadAsync<SessionCredentialRecord>(attemptId, ct);
        if (record is null) return false;
        var stored = Convert.FromHexString(record.Sha256);
        _hashes.TryAdd(attemptId, stored);
        return CryptographicOperations.FixedTimeEquals(stored, hash);
    }

    private static byte[] Hash(string credential) => SHA256.HashData(Encoding.ASCII.GetBytes(credential));
}
