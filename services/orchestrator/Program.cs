using ReBench.Orchestrator;
using ReBench.ServiceDefaults;

return await ServiceMain.RunAsync(args, "orchestrator", 5101, b => b.AddOrchestrator(), a => a.MapOrchestrator());
