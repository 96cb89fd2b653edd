using ReBench.Scoring;
using ReBench.ServiceDefaults;

ServiceHost.Run(args, "scoring", 5103, b => b.AddScoring(), a => a.MapScoring());
