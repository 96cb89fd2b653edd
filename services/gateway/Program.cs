using ReBench.Gateway;
using ReBench.ServiceDefaults;

return await ServiceMain.RunAsync(args, "gateway", 5100, b => b.AddGateway(), a => a.MapGateway(), edge: true);
