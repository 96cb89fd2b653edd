using ReBench.Orchestrator;
using ReBench.ServiceDefaults;

ServiceHost.Run(args, "orchestrator", 5101, b => b.AddOrchestrator(), a => a.MapOrchestrator());
