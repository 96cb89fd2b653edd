using System.Security.Cryptography;
using System.Text;

namespace ReBench.Gateway.Access;

/// <summary>
/// Checks a presented API key against the configured ones in constant time. Keys are compared as SHA-256 digests
/// so that neither a key's content nor its length shows in the timing, and every configured key is compared.
/// </summary>
public sealed class ApiKeyValidator
{
    private readonly ApiKeyEntry[] _entries;
    private readonly byte[][] _digests;

    public ApiKeyValidator(IEnumerable<string> keys)
        : this(keys.Select(k => new ApiKeyEntry(k, ApiKeyRole.Admin, ApiKeyEntry.DefaultId(k)))) { }

    public ApiKeyValidator(IEnumerable<ApiKeyEntry> entries)
    {
        _entries = entries.ToArray();
        _digests = _entries.Select(e => Digest(e.Key)).ToArray();
    }

    public bool IsValid(string presented) => Match(presented) is not null;

    /// <summary>The configured key presented (with its role), or null; every configured key is compared.</summary>
    public ApiKeyEntry? Match(string presented)
    {
        var digest = Digest(presented);
        ApiKeyEntry? match = null;
        for (var i = 0; i < _digests.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i])) match ??= _entries[i];
        }
        return match;
    }

    /// <summary>The key from <c>x-api-key</c>, else from <c>authorization: Bearer</c>; null when neither is sent.</summary>
    public static string? Presented(IHeaderDictionary headers)
    {
        var key = headers["x-api-key"].ToString();
        if (!string.IsNullOrWhiteSpace(key)) return key.Trim();
        var authorization = headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > bearer.Length)
            return authorization[bearer.Length..].Trim();
        return null;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
