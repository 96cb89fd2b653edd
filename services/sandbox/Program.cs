using ReBench.Sandbox;
using ReBench.ServiceDefaults;

return await ServiceMain.RunAsync(args, "sandbox", 5102, b => b.AddSandbox(), a => a.MapSandbox());
