using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("orchestrator", 5101);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
