using ReBench.Agents;
using ReBench.ServiceDefaults;

ServiceHost.Run(args, "agents", 5104, b => b.AddAgents(), a => a.MapAgents());
