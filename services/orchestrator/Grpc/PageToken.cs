using System.Globalization;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Grpc;

/// <summary>
/// Keyset paging of the newest-first lists (ListAttempts, ListCampaigns): a page token is the position of the last
/// item of the previous page, (time, id), so a page is a bounded index-ordered query however far back it is, and
/// items added meanwhile never shift a page. The token is opaque to callers (base64url of a kind, the time to the
/// 100 ns and the id); anything that does not decode to the same kind of list is INVALID_ARGUMENT.
/// </summary>
public sealed record PageToken(DateTimeOffset At, Guid Id)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    private const int MaxTokenLength = 200;

    public string Encode(string kind) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{kind}|{At.UtcDateTime.Ticks.ToString(CultureInfo.InvariantCulture)}|{Id:N}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The token's position, or null for an empty token (the first page).</summary>
    public static PageToken? Decode(string? token, string kind)
    {
        if (string.IsNullOrEmpty(token)) return null;
        var invalid = Guard.Invalid($"page_token is not a token this list returned (pass next_page_token of a {kind} page as is)");
        if (token.Length > MaxTokenLength || token.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))) throw invalid;
        string text;
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            text = Encoding.UTF8.GetString(Convert.FromBase64String(b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=')));
        }
        catch (FormatException) { throw invalid; }
        var parts = text.Split('|');
        if (parts.Length != 3 || parts[0] != kind
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks
            || !Guid.TryParseExact(parts[2], "N", out var id))
            throw invalid;
        return new PageToken(new DateTimeOffset(ticks, TimeSpan.Zero), id);
    }

    public static int Size(int requested) =>
        requested < 0 ? throw Guard.Invalid($"page_size must not be negative, got {requested}")
        : requested > MaxPageSize ? throw Guard.Invalid($"page_size must be at most {MaxPageSize}, got {requested}")
        : requested == 0 ? DefaultPageSize : requested;
}
