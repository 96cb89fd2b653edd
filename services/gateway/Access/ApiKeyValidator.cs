using System.Security.Cryptography;
using System.Text;

namespace ReBench.Gateway.Access;

/// <summary>
/// Checks a presented API key against the configured ones in constant time. Keys are compared as SHA-256 digests
/// so that neither a key's content nor its length shows in the timing, and every configured key is compared.
/// </summary>
public sealed class ApiKeyValidator(IEnumerable<string> keys)
{
    private readonly byte[][] _digests = keys.Select(Digest).ToArray();

    public bool IsValid(string presented)
    {
        var digest = Digest(presented);
        var match = false;
        foreach (var known in _digests) match |= CryptographicOperations.FixedTimeEquals(digest, known);
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
