using ReBench.Sandbox;
using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("sandbox", 5102);
builder.AddSandbox();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSandbox();
app.Run();
