using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("gateway", 5100);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
