using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ReBench.ServiceDefaults.PlatformAuth;

/// <summary>Who a validated token says made a call: the API key's id and role, or service:&lt;name&gt; / service.</summary>
public sealed record PlatformCaller(string Principal, string Role);

/// <summary>
/// Service tokens: JWTs signed with the platform key (HMAC-SHA256), naming a principal and role, short-lived
/// (<see cref="Lifetime"/>) and accepted within <see cref="ClockSkew"/> of their window, so services whose clocks
/// differ by a minute or two do not refuse each other. Tokens are carried in <see cref="Header"/>, not
/// authorization, which may hold the user's API key.
/// </summary>
public static class PlatformTokens
{
    public const string Header = "x-rebench-token";
    public const string Issuer = "rebench-platform";
    public const string Audience = "rebench-services";
    public const string RoleClaim = "role";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);
    /// <summary>Longer than any token this platform makes; a longer header is refused unparsed.</summary>
    public const int MaxTokenChars = 4096;

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static string Create(SecurityKey key, string principal, string role, DateTime notBeforeUtc, DateTime expiresUtc, string audience = Audience) =>
        Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = notBeforeUtc,
            NotBefore = notBeforeUtc,
            Expires = expiresUtc,
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = principal, [RoleClaim] = role },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });

    internal static async Task<(PlatformCaller? Caller, DateTime ExpiresUtc, string? Error)> ValidateAsync(string token, PlatformKeys keys)
    {
        if (token.Length > MaxTokenChars || !Handler.CanReadToken(token)) return (null, default, TokenErrors.Malformed);
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = keys.All,
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = ClockSkew,
        });
        if (!result.IsValid) return (null, default, TokenErrors.Describe(result.Exception));
        var principal = result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var p) ? p as string : null;
        var role = result.Claims.TryGetValue(RoleClaim, out var r) ? r as string : null;
        if (string.IsNullOrEmpty(principal) || role is null) return (null, default, TokenErrors.Malformed);
        return (new PlatformCaller(principal, role), result.SecurityToken.ValidTo, null);
    }
}

/// <summary>The refusal messages: they name what is wrong, never the token or which part of it matched.</summary>
public static class TokenErrors
{
    public const string Missing = "missing service token: backends accept only calls signed with the platform key (x-rebench-token); call through the gateway";
    public const string Malformed = "malformed service token";
    public const string BadSignature = "service token signature does not verify with the platform key";
    public const string Expired = "expired service token";
    public const string NotYetValid = "service token is not yet valid";
    public const string WrongAudience = "service token is for another audience";
    public const string WrongIssuer = "service token has another issuer";

    internal static string Describe(Exception? e) => e switch
    {
        SecurityTokenExpiredException => Expired,
        SecurityTokenNotYetValidException => NotYetValid,
        SecurityTokenInvalidAudienceException => WrongAudience,
        SecurityTokenInvalidIssuerException => WrongIssuer,
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => BadSignature,
        _ => Malformed,
    };
}

/// <summary>
/// Makes tokens for outgoing calls and keeps each (principal, role)'s token until it is within
/// <see cref="PlatformTokens.ClockSkew"/> of expiring, so a call normally costs a dictionary lookup.
/// </summary>
public sealed class PlatformTokenIssuer(PlatformKeys keys, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Principal, string Role), (string Token, DateTimeOffset RenewAt)> _tokens = new();

    public string TokenFor(string principal, string role)
    {
        var now = time.GetUtcNow();
        if (_tokens.TryGetValue((principal, role), out var cached) && now < cached.RenewAt) return cached.Token;
        // Second-aligned like the JWT's own times (whole seconds), so the cached window matches the token's.
        var start = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expires = start + PlatformTokens.Lifetime;
        var token = PlatformTokens.Create(keys.Current, principal, role, start.UtcDateTime, expires.UtcDateTime);
        _tokens[(principal, role)] = (token, expires - PlatformTokens.ClockSkew);
        return token;
    }
}

/// <summary>
/// Validates incoming tokens. A token that validated is remembered until it expires (plus the skew), so the same
/// caller's next calls skip the signature check; only valid tokens, which only a key holder can make, are kept, and
/// the memory is bounded.
/// </summary>
public sealed class PlatformTokenValidator(PlatformKeys keys, TimeProvider time)
{
    private const int MaxRemembered = 4096;
    private readonly ConcurrentDictionary<string, (PlatformCaller Caller, DateTime ExpiresUtc)> _valid = new(StringComparer.Ordinal);

    public async ValueTask<(PlatformCaller? Caller, string? Error)> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token)) return (null, TokenErrors.Missing);
        var now = time.GetUtcNow().UtcDateTime;
        if (_valid.TryGetValue(token, out var known))
        {
            if (now <= known.ExpiresUtc + PlatformTokens.ClockSkew) return (known.Caller, null);
            _valid.TryRemove(token, out _);
            return (null, TokenErrors.Expired);
        }
        var (caller, expires, error) = await PlatformTokens.ValidateAsync(token, keys);
        if (caller is null) return (null, error);
        if (_valid.Count >= MaxRemembered) _valid.Clear();
        _valid[token] = (caller, expires);
        return (caller, null);
    }
}
