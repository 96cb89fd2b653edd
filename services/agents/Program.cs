using ReBench.Agents;
using ReBench.ServiceDefaults;

return await ServiceMain.RunAsync(args, "agents", 5104, b => b.AddAgents(), a => a.MapAgents());
