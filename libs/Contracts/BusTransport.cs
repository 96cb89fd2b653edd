using MassTransit;
using Microsoft.Extensions.Configuration;
using ReBench.ServiceDefaults;

namespace ReBench.Contracts;

public static class BusTransport
{
    /// <summary>
    /// The retry every consumer of every service gets (<see cref="UsingConfiguredTransport"/>): transient failures
    /// (<see cref="TransientFaults"/>: a PostgreSQL restart's 57P01, a broken connection, a peer not answering) are
    /// tried again in the consumer with exponential backoff, 200 ms up to 30 s, 8 retries (about 1.5 minutes in all,
    /// longer than a fast database restart); anything else goes to the queue's _error queue at once, as before.
    /// No redelivery stage: MassTransit's delayed redelivery on RabbitMQ needs the delayed-message-exchange plugin
    /// (or a scheduler), which a stock RabbitMQ lacks; what still fails is left in _error, and the orchestrator's
    /// reconciler (Campaigns/CampaignReconciler.cs) derives from the log what such a loss would leave missing.
    /// </summary>
    public static void ConfigureRetry(IRetryConfigurator retry)
    {
        retry.Exponential(RetryLimit, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        retry.Handle<Exception>(TransientFaults.IsTransient);
    }

    public const int RetryLimit = 8;

    /// <summary>
    /// RabbitMQ from the RabbitMq:* settings, queues named with RabbitMq:QueuePrefix (default: the service), so two
    /// services consuming the same integration event each get their own queue. Without RabbitMq:Host, an in-process
    /// bus: for unit tests and single-process experiments only.
    /// </summary>
    public static void UsingConfiguredTransport(this IBusRegistrationConfigurator bus, IConfiguration config, string service)
    {
        // Every receive endpoint ConfigureEndpoints makes, in any service, gets the same message retry.
        bus.AddConfigureEndpointsCallback((_, _, endpoint) => endpoint.UseMessageRetry(ConfigureRetry));
        if (config["RabbitMq:Host"] is not { Length: > 0 } host)
        {
            bus.UsingInMemory((ctx, cfg) => cfg.ConfigureEndpoints(ctx));
            return;
        }
        var port = config["RabbitMq:Port"] is { Length: > 0 } text
            ? ushort.TryParse(text, out var p) ? p : throw new InvalidOperationException($"RabbitMq:Port '{text}' is not a port number")
            : (ushort)5672;
        bus.UsingRabbitMq((ctx, cfg) =>
        {
            cfg.Host(host, port, config["RabbitMq:VirtualHost"] ?? "/", h =>
            {
                h.Username(config["RabbitMq:Username"] ?? "guest");
                h.Password(config["RabbitMq:Password"] ?? "guest");
            });
            cfg.ConfigureEndpoints(ctx, new KebabCaseEndpointNameFormatter(config["RabbitMq:QueuePrefix"] ?? service, false));
        });
    }
}
