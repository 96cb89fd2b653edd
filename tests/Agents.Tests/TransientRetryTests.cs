using TransientRetry = ReBench.Agents.Session.TransientRetry;

namespace ReBench.Agents.Tests;

public sealed class TransientRetryTests
{
    [Theory]
    [InlineData(StatusCode.Unavailable, "Error connecting to subchannel.", true)]
    [InlineData(StatusCode.DeadlineExceeded, "", true)]
    [InlineData(StatusCode.Internal, "Error starting gRPC call. HttpRequestException: Connection refused", true)]
    [InlineData(StatusCode.Internal, "The HTTP/2 server closed the connection.", true)]
    [InlineData(StatusCode.Internal, "/x.Y/Act failed: NullReferenceException: boom", false)]
    // What a service's ErrorInterceptor answers for an unexpected failure: a bug there, not the transport.
    [InlineData(StatusCode.Internal, "internal error (correlation id 0123456789abcdef-01234567)", false)]
    [InlineData(StatusCode.Cancelled, "server shutting down", true)]
    [InlineData(StatusCode.InvalidArgument, "connection", false)]
    [InlineData(StatusCode.FailedPrecondition, "attempt ended", false)]
    [InlineData(StatusCode.NotFound, "attempt unknown", false)]
    public void Only_transport_failures_are_transient(StatusCode status, string detail, bool transient) =>
        Assert.Equal(transient, TransientRetry.IsTransient(new RpcException(new Status(status, detail)), CancellationToken.None));

    [Fact]
    public void A_call_we_cancelled_ourselves_is_not_retried() =>
        Assert.False(TransientRetry.IsTransient(new RpcException(new Status(StatusCode.Cancelled, "")), new CancellationToken(canceled: true)));
}
