using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("sandbox", 5102);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
