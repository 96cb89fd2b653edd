using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace ReBench.Testing;

/// <summary>The options check that stops a service at start, as a test host sees it.</summary>
public static class FailedStart
{
    /// <summary>
    /// Starts a fresh host up to three times and returns the options failure it stops with (null if it never does).
    /// WebApplicationFactory's deferred host sometimes loses the entry point's exception in a race (it asks the host
    /// that failed, already disposed, for its services: ObjectDisposedException); a host that starts fine never lands
    /// there, so a retry cannot hide a missing check.
    /// </summary>
    public static OptionsValidationException? Of<TEntryPoint>(Func<WebApplicationFactory<TEntryPoint>> newHost)
        where TEntryPoint : class
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var host = newHost();
            try
            {
                _ = host.Server;
            }
            catch (OptionsValidationException e)
            {
                return e;
            }
            catch (ObjectDisposedException)
            {
                // The race above: try again with a new host.
            }
        }
        return null;
    }
}
