using ReBench.Gateway.Routing;

namespace ReBench.Gateway.Tests;

/// <summary>
/// The orchestrator's public API stays split by concern (issue 15): no service grows past a dozen methods, every
/// public service has a gateway route, and the auditor's policy names each service's methods rather than a blanket rule.
/// </summary>
public sealed class PublicApiShapeTests
{
    private static readonly string[] PublicServices = ["Campaigns", "Attempts", "Audit", "HumanBaselines"];

    [Fact]
    public void No_orchestrator_service_has_more_than_a_dozen_methods()
    {
        var services = OrchestratorReflection.Descriptor.Services;
        Assert.Equal(PublicServices.Order(), services.Select(s => s.Name).Order());
        Assert.All(services, s => Assert.InRange(s.Methods.Count, 1, 12));
        // Together they are the 25 methods the single Orchestrator service had: none lost in the split.
        Assert.Equal(25, services.Sum(s => s.Methods.Count));
    }

    [Fact]
    public void Every_public_service_is_routed_on_the_public_listener_and_no_other_orchestrator_path()
    {
        var publicPaths = GatewayRoutes.Routes()
            .Where(r => r.Metadata![GatewayRoutes.ListenerMetadataKey] == nameof(Listener.Public))
            .Select(r => r.Match.Path!).Where(p => p.StartsWith("/rebench.orchestrator.v1.", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(PublicServices.Select(s => $"/rebench.orchestrator.v1.{s}/{{**method}}").Order(), publicPaths.Order());
    }

    [Fact]
    public void Auditor_may_call_exactly_the_reads_of_each_service()
    {
        // Every method of every public service through the policy: the reads listed in README ("API"), nothing else.
        var allowed = OrchestratorReflection.Descriptor.Services
            .SelectMany(s => s.Methods.Select(m => $"{s.Name}/{m.Name}"))
            .Where(p => AuditorPolicy.Allows($"/rebench.orchestrator.v1.{p}"))
            .Order().ToList();
        string[] expected =
        [
            "Campaigns/GetCampaign", "Campaigns/ListCampaigns",
            "Attempts/GetAttempt", "Attempts/ListAttempts", "Attempts/WatchAttempt", "Attempts/ReadAttemptEvents", "Attempts/ReexecuteAttempt",
            "Audit/VerifyAttempt", "Audit/GetPublicKey", "Audit/ExportAttempt", "Audit/GetBlob", "Audit/VerifyCampaign",
            "Audit/ExportCampaign", "Audit/ListAccessEvents", "Audit/ListCorrections", "Audit/ExportCorrections",
        ];
        Assert.Equal(expected.Order(), allowed);
    }
}
