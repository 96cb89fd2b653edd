using System.Globalization;
using System.Net;

namespace ReBench.Agents.Llm;

/// <summary>Stops and restarts the attempt's clock around a wait that must not count as working time.</summary>
public interface IClockPauser
{
    Task PauseAsync(string reason, CancellationToken ct);
    Task ResumeAsync(CancellationToken ct);
}

/// <summary>
/// Retries a provider call on 429, 408, 5xx, per-try timeouts and connection failures, with exponential backoff or the
/// provider's Retry-After (retry-after-ms too). The attempt's clock is paused for each wait, as the paper did: time lost
/// to rate limits and provider errors is not counted against the agent. The SDKs' own retries are switched off.
/// </summary>
public sealed class ProviderRetryHandler(ProviderOptions options, IClockPauser pauser, TimeProvider time, ILogger logger) : DelegatingHandler
{
    /// <summary>Retries made and total time waited, for the model-call record.</summary>
    public int Retries { get; private set; }
    public TimeSpan Waited { get; private set; }

    public void Reset() => (Retries, Waited) = (0, TimeSpan.Zero);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(ct);
        var headers = request.Content?.Headers;
        for (var attempt = 0; ; attempt++)
        {
            if (body is not null) request.Content = ExchangeCapture.Copy(body, headers!);
            HttpResponseMessage? response = null;
            string failure;
            using var perTry = CancellationTokenSource.CreateLinkedTokenSource(ct);
            perTry.CancelAfter(options.RequestTimeout);
            try
            {
                response = await base.SendAsync(request, perTry.Token);
                if (!IsRetryable(response.StatusCode))
                {
                    // The whole answer is read here, within this try's timeout: a body cut off mid-way (connection
                    // reset after the headers) is a transient failure like a reset before them, and is retried.
                    try
                    {
                        await response.Content.LoadIntoBufferAsync(perTry.Token);
                        return response;
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException)
                    {
                        failure = $"the answer (HTTP {(int)response.StatusCode}) was cut off mid-body: {Messages(e)}";
                        response.Dispose();
                        response = null;
                    }
                }
                else
                {
                    failure = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                failure = $"no answer within {options.RequestTimeout.TotalSeconds:0} s";
                response?.Dispose(); // a body still arriving when the try timed out is not an answer
                response = null;
            }
            catch (HttpRequestException e)
            {
                failure = $"connection failed: {Messages(e)}";
            }
            if (attempt >= options.MaxRetries)
            {
                if (response is not null) return response; // the caller reports the status and body
                throw new ModelCallException($"{failure}; gave up after {attempt + 1} tries");
            }

            var delay = RetryAfter(response) ?? Backoff(attempt);
            response?.Dispose();
            logger.LogWarning("Model provider call failed ({Failure}); retry {Retry} of {Max} in {DelayMs} ms with the clock paused",
                failure, attempt + 1, options.MaxRetries, (long)delay.TotalMilliseconds);
            await pauser.PauseAsync($"model provider: {failure}; waiting {delay.TotalSeconds:0.###} s before retry {attempt + 1}", ct);
            var started = time.GetTimestamp();
            await Task.Delay(delay, time, ct);
            Waited += time.GetElapsedTime(started);
            Retries++;
            await pauser.ResumeAsync(ct);
        }
    }

    /// <summary>The exception's message and its inner ones' ("An error occurred while sending the request." alone says little).</summary>
    internal static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null && parts.Count < 4; x = x.InnerException)
            if (!parts.Contains(x.Message)) parts.Add(x.Message);
        return string.Join(" <- ", parts);
    }

    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;

    private TimeSpan Backoff(int attempt)
    {
        var ms = options.RetryInitialDelay.TotalMilliseconds * Math.Pow(2, attempt);
        // Jitter spreads out agents that hit the same limit at once.
        ms *= 0.8 + (Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(ms, options.RetryMaxDelay.TotalMilliseconds));
    }

    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response is null) return null;
        TimeSpan? wait = null;
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m >= 0)
            wait = TimeSpan.FromMilliseconds(m);
        else if (response.Headers.RetryAfter is { } ra)
            wait = ra.Delta ?? (ra.Date is { } d ? d - time.GetUtcNow() : null);
        if (wait is null) return null;
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        return wait > options.RetryAfterCap ? options.RetryAfterCap : wait;
    }
}

/// <summary>A model call that failed for good; the message says why and goes into the run's error.</summary>
public sealed class ModelCallException(string message, Exception? inner = null) : Exception(message, inner);
