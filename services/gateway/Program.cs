using ReBench.Gateway;
using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddEdgeDefaults("gateway", 5100);
builder.AddGateway();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGateway();
app.Run();
