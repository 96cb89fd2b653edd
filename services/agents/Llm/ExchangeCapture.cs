using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ReBench.Agents.Llm;

/// <summary>
/// Keeps the body of the last request sent and the last response received through this client, for the model-call
/// record. Bodies only, never headers (the key travels in a header); any copy of the key inside a body is redacted too.
/// The SDKs call it one request at a time per run, so "last" is well defined.
/// </summary>
public sealed class ExchangeCapture(string secret) : DelegatingHandler
{
    public const string Redacted = "[redacted]";

    public string? RequestBody { get; private set; }
    public string? ResponseBody { get; private set; }
    public HttpStatusCode? Status { get; private set; }

    public void Reset() => (RequestBody, ResponseBody, Status) = (null, null, null);

    public string Redact(string text) =>
        secret.Length == 0 ? text : text.Replace(secret, Redacted, StringComparison.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.Content is { } content)
        {
            // Buffered so that the retry handler below can send it again.
            var bytes = await content.ReadAsByteArrayAsync(ct);
            RequestBody = Redact(Encoding.UTF8.GetString(bytes));
            request.Content = Copy(bytes, content.Headers);
        }
        var response = await base.SendAsync(request, ct);
        Status = response.StatusCode;
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        ResponseBody = Redact(Encoding.UTF8.GetString(body));
        response.Content = Copy(body, response.Content.Headers);
        return response;
    }

    internal static ByteArrayContent Copy(byte[] bytes, HttpContentHeaders headers)
    {
        var copy = new ByteArrayContent(bytes);
        foreach (var h in headers)
        {
            if (h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }
        return copy;
    }
}
