using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("agents", 5104);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
