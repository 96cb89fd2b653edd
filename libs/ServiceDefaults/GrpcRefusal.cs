using System.Globalization;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace ReBench.ServiceDefaults;

/// <summary>
/// Answers a call refused before it reaches a service (by the gateway, a backend's token check, an inexact path) as a gRPC trailers-only response (HTTP 200, application/grpc,
/// grpc-status and grpc-message in the headers, no body), which gRPC clients surface as that status and message.
/// </summary>
public static class GrpcRefusal
{
    public static Task WriteAsync(HttpContext context, Status status)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(status.Detail);
        return response.CompleteAsync();
    }

    /// <summary>grpc-message encoding from the gRPC HTTP/2 spec: UTF-8, with '%' and bytes outside 0x20-0x7E escaped.</summary>
    private static string PercentEncode(string message)
    {
        var text = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') text.Append((char)b);
            else text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
