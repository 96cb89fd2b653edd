using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// Paged lists (ListAttempts, ListCampaigns), newest first, following next_page_token: the newest --limit (default 100)
/// or, with --all, every one. A cut list says so on stderr, so a table never silently drops the rest.
/// </summary>
internal static class Paging
{
    public const int DefaultLimit = 100;

    public static Option<int> Limit() => new("--limit") { Description = $"show the newest N (default {DefaultLimit})", DefaultValueFactory = _ => DefaultLimit };

    public static Option<bool> All() => new("--all") { Description = "show every one, page after page (overrides --limit)" };

    /// <summary>--all: null (no limit); else --limit, which must be positive.</summary>
    public static int? LimitOf(ParseResult r, Option<int> limit, Option<bool> all)
    {
        if (r.GetValue(all)) return null;
        var n = r.GetValue(limit);
        return n > 0 ? n : throw CliException.Bad($"--limit {n}: must be at least 1 (or --all)");
    }

    /// <summary>Attempts passing <paramref name="keep"/>, newest first, at most <paramref name="limit"/> (null: all).</summary>
    public static async Task<(List<Attempt> Items, bool More)> AttemptsAsync(Attempts.AttemptsClient client, ListAttemptsRequest request,
        int? limit, CancellationToken ct, Func<Attempt, bool>? keep = null)
    {
        var items = new List<Attempt>();
        request = request.Clone();
        request.PageSize = Math.Min(limit ?? 1000, 1000);
        do
        {
            var page = await client.ListAttemptsAsync(request, cancellationToken: ct);
            items.AddRange(page.Attempts.Where(a => keep?.Invoke(a) ?? true));
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "" && (limit is null || items.Count < limit));
        return Cut(items, limit, request.PageToken != "");
    }

    public static async Task<List<Attempt>> AllAttemptsAsync(Attempts.AttemptsClient client, ListAttemptsRequest request, CancellationToken ct) =>
        (await AttemptsAsync(client, request, null, ct)).Items;

    public static async Task<(List<Campaign> Items, bool More)> CampaignsAsync(Campaigns.CampaignsClient client, int? limit, CancellationToken ct)
    {
        var items = new List<Campaign>();
        var request = new ListCampaignsRequest { PageSize = Math.Min(limit ?? 1000, 1000) };
        do
        {
            var page = await client.ListCampaignsAsync(request, cancellationToken: ct);
            items.AddRange(page.Campaigns);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "" && (limit is null || items.Count < limit));
        return Cut(items, limit, request.PageToken != "");
    }

    /// <summary>Tells the reader, on stderr, that older items exist beyond what was shown.</summary>
    public static void SayIfCut(bool more, int shown, string what)
    {
        if (more) Console.Error.WriteLine($"(the newest {shown} {what} shown; --all for every one, --limit N for more)");
    }

    private static (List<T>, bool) Cut<T>(List<T> items, int? limit, bool morePages) =>
        limit is { } n && items.Count > n ? (items.GetRange(0, n), true) : (items, morePages);
}
