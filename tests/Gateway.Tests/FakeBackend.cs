using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReBench.ServiceDefaults;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.Gateway.Tests;

/// <summary>Every call the backend received, as "Service/Method key" (key = the request's id), to prove what was forwarded.</summary>
public sealed class BackendCalls
{
    private readonly ConcurrentQueue<string> _calls = new();
    public void Record(ServerCallContext context, string key) => _calls.Enqueue($"{context.Method} {key}");
    public bool Saw(string key) => _calls.Any(c => c.EndsWith(" " + key, StringComparison.Ordinal));
}

/// <summary>A real h2c gRPC server on a free loopback port standing in for the orchestrator and scoring services.</summary>
public sealed class FakeBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeBackend(WebApplication app, int port) => (_app, Port) = (app, port);

    public int Port { get; }
    public BackendCalls Calls => _app.Services.GetRequiredService<BackendCalls>();

    public static async Task<FakeBackend> StartAsync()
    {
        var port = TestEnv.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<BackendCalls>();
        // A backend's token check, as AddServiceDefaults sets it up: the gateway must sign what it forwards.
        builder.Configuration[TestPlatformKey.Setting.Key] = TestPlatformKey.Key;
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => PlatformKeys.From(builder.Configuration));
        builder.Services.AddSingleton<PlatformTokenValidator>();
        var app = builder.Build();
        app.UseMiddleware<ServiceTokenCheck>();
        app.MapGrpcService<FakeCampaigns>();
        app.MapGrpcService<FakeAttempts>();
        app.MapGrpcService<FakeSession>();
        app.MapGrpcService<FakeScoring>();
        await app.StartAsync();
        return new FakeBackend(app, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class FakeCampaigns(BackendCalls calls) : Campaigns.CampaignsBase
{
    /// <summary>Echoes the id, and the traceparent it received as the name so tests can see trace propagation.</summary>
    public override Task<Campaign> GetCampaign(GetCampaignRequest request, ServerCallContext context)
    {
        calls.Record(context, request.CampaignId);
        return Task.FromResult(new Campaign
        {
            CampaignId = request.CampaignId,
            Name = context.RequestHeaders.GetValue("traceparent") ?? "",
        });
    }
}

public sealed class FakeAttempts(BackendCalls calls) : Attempts.AttemptsBase
{
    /// <summary>Echoes the caller the gateway's token names, as "principal|role", in failure_reason.</summary>
    public override Task<Attempt> GetAttempt(GetAttemptRequest request, ServerCallContext context)
    {
        calls.Record(context, request.AttemptId);
        return Task.FromResult(new Attempt
        {
            AttemptId = request.AttemptId,
            FailureReason = $"{CallerIdentity.Principal(context)}|{CallerIdentity.Role(context)}",
        });
    }

    public override async Task ReadAttemptEvents(ReadAttemptEventsRequest request, IServerStreamWriter<AttemptEvent> responseStream, ServerCallContext context)
    {
        calls.Record(context, request.AttemptId);
        for (var version = 1; version <= 3; version++)
        {
            await responseStream.WriteAsync(new AttemptEvent { AttemptId = request.AttemptId, Version = version, EventType = $"event_{version}" });
        }
    }
}

public sealed class FakeSession(BackendCalls calls) : AttemptSession.AttemptSessionBase
{
    public override Task<ActResult> Act(ActRequest request, ServerCallContext context)
    {
        calls.Record(context, request.AttemptId);
        return Task.FromResult(new ActResult { StepId = request.StepId, Stdout = request.Run.Command });
    }
}

public sealed class FakeScoring(BackendCalls calls) : ReBench.Scoring.V1.Scoring.ScoringBase
{
    public override Task<ListTasksResponse> ListTasks(ListTasksRequest request, ServerCallContext context)
    {
        calls.Record(context, "list");
        return Task.FromResult(new ListTasksResponse { Tasks = { new TaskDescriptor { TaskId = "task-a" } } });
    }

    public override Task<IntermediateScore> ScoreSubmission(ScoreSubmissionRequest request, ServerCallContext context)
    {
        calls.Record(context, request.AttemptId);
        return Task.FromResult(new IntermediateScore { Valid = true });
    }
}
