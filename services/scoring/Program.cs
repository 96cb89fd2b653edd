using ReBench.Scoring;
using ReBench.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("scoring", 5103);
builder.AddScoring();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapScoring();
app.Run();
