using MassTransit;
using Microsoft.Extensions.Configuration;

namespace ReBench.Contracts;

public static class BusTransport
{
    /// <summary>
    /// RabbitMQ from the RabbitMq:* settings, queues named with RabbitMq:QueuePrefix (default: the service), so two
    /// services consuming the same integration event each get their own queue. Without RabbitMq:Host, an in-process
    /// bus: for unit tests and single-process experiments only.
    /// </summary>
    public static void UsingConfiguredTransport(this IBusRegistrationConfigurator bus, IConfiguration config, string service)
    {
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
