using ReBench.Orchestrator;
using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("orchestrator", 5101);
builder.AddOrchestrator();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOrchestrator();
app.Run();
