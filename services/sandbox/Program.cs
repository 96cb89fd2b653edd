using ReBench.Sandbox;
using ReBench.ServiceDefaults;

ServiceHost.Run(args, "sandbox", 5102, b => b.AddSandbox(), a => a.MapSandbox());
