using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("scoring", 5103);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
