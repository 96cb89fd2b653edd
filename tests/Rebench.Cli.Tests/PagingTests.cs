using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Tests;

/// <summary>Lists page newest first through next_page_token: the newest --limit, or every one with --all, and a cut list knows it was cut.</summary>
public sealed class PagingTests
{
    /// <summary>250 attempts, newest first, served in pages of at most the page size asked (the server's contract).</summary>
    private sealed class PagedAttempts : CallInvoker
    {
        public List<int> PageSizes { get; } = [];
        private readonly List<Attempt> _all = Enumerable.Range(0, 250).Select(i => new Attempt { AttemptId = $"a{249 - i:D3}" }).ToList();

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            var r = (ListAttemptsRequest)(object)request;
            PageSizes.Add(r.PageSize);
            var start = r.PageToken.Length == 0 ? 0 : int.Parse(r.PageToken);
            var page = _all.Skip(start).Take(r.PageSize).ToList();
            var next = start + page.Count < _all.Count ? (start + page.Count).ToString() : "";
            var response = new ListAttemptsResponse { Attempts = { page }, NextPageToken = next };
            return new AsyncUnaryCall<TResponse>(Task.FromResult((TResponse)(object)response), Task.FromResult(new Metadata()),
                () => Status.DefaultSuccess, () => [], () => { });
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();
        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();
        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }

    [Fact]
    public async Task The_newest_limit_are_shown_and_the_cut_is_known()
    {
        var server = new PagedAttempts();
        var (items, more) = await Paging.AttemptsAsync(new Attempts.AttemptsClient(server), new ListAttemptsRequest(), 100, CancellationToken.None);
        Assert.Equal(100, items.Count);
        Assert.Equal("a249", items[0].AttemptId);   // newest first, as the server sends them
        Assert.True(more);
        Assert.Equal([100], server.PageSizes);
    }

    [Fact]
    public async Task All_follows_every_page()
    {
        var server = new PagedAttempts();
        var (items, more) = await Paging.AttemptsAsync(new Attempts.AttemptsClient(server), new ListAttemptsRequest(), null, CancellationToken.None);
        Assert.Equal(250, items.Count);
        Assert.Equal("a000", items[^1].AttemptId);
        Assert.False(more);
    }

    [Fact]
    public async Task A_client_side_filter_keeps_reading_pages_until_the_limit_is_filled()
    {
        var server = new PagedAttempts();
        var (items, more) = await Paging.AttemptsAsync(new Attempts.AttemptsClient(server), new ListAttemptsRequest(), 30, CancellationToken.None,
            a => a.AttemptId.EndsWith('7'));
        Assert.Equal(25, items.Count);   // only 25 of the 250 end in 7: every page read, none left
        Assert.False(more);
        Assert.Equal(9, server.PageSizes.Count);
    }

    [Fact]
    public async Task A_non_positive_limit_is_refused_with_exit_two()
    {
        var (exit, _, err) = await CliInputTests.RunAsync("attempts", "list", "--limit", "0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--limit 0: must be at least 1", err);
    }
}
