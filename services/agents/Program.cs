using ReBench.Agents;
using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("agents", 5104);
builder.AddAgents();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapAgents();
app.Run();
