using Grpc.Net.Client;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli;

/// <summary>A gRPC channel to the gateway with the API key on every call.</summary>
public sealed class PlatformClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public PlatformClient(string gateway, string? apiKey)
    {
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (!string.IsNullOrEmpty(apiKey)) metadata.Add("x-api-key", apiKey);
            return Task.CompletedTask;
        });
        _channel = GrpcChannel.ForAddress(gateway, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        Campaigns = new Orchestrator.V1.Campaigns.CampaignsClient(_channel);
        Attempts = new Orchestrator.V1.Attempts.AttemptsClient(_channel);
        Audit = new Orchestrator.V1.Audit.AuditClient(_channel);
        HumanBaselines = new Orchestrator.V1.HumanBaselines.HumanBaselinesClient(_channel);
        Reports = new Scoring.V1.Reports.ReportsClient(_channel);
        Scoring = new Scoring.V1.Scoring.ScoringClient(_channel);
        Agents = new Agents.V1.Agents.AgentsClient(_channel);
    }

    // The orchestrator's public API, one service per concern.
    public Orchestrator.V1.Campaigns.CampaignsClient Campaigns { get; }
    public Orchestrator.V1.Attempts.AttemptsClient Attempts { get; }
    public Orchestrator.V1.Audit.AuditClient Audit { get; }
    public Orchestrator.V1.HumanBaselines.HumanBaselinesClient HumanBaselines { get; }
    public Scoring.V1.Reports.ReportsClient Reports { get; }
    /// <summary>The gateway forwards only the task catalog (ListTasks, GetTask) of this service.</summary>
    public Scoring.V1.Scoring.ScoringClient Scoring { get; }
    /// <summary>The gateway forwards only ListAgents of this service.</summary>
    public Agents.V1.Agents.AgentsClient Agents { get; }

    public void Dispose() => _channel.Dispose();
}
