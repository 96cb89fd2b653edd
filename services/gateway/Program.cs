using ReBench.Gateway;
using ReBench.ServiceDefaults;

ServiceHost.Run(args, "gateway", 5100, b => b.AddGateway(), a => a.MapGateway(), edge: true);
