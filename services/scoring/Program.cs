using ReBench.Scoring;
using ReBench.ServiceDefaults;

return await ServiceMain.RunAsync(args, "scoring", 5103, b => b.AddScoring(), a => a.MapScoring());
