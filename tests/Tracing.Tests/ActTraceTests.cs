using System.Diagnostics;
using ReBench.InProcess;
using ReBench.Orchestrator.V1;

namespace ReBench.Tracing.Tests;

public sealed class ActTraceTests
{
    private static string? Tag(Activity a, string key) => a.GetTagItem(key)?.ToString();

    private static bool IsServerSpan(Activity a, int port, string path) =>
        a.Kind == ActivityKind.Server && Tag(a, "server.port") == port.ToString() && Tag(a, "url.path") == path;

    [Fact]
    public async Task One_act_is_one_trace_through_gateway_orchestrator_and_sandbox()
    {
        await using var platform = await ActPath.StartAsync(traces: true);
        var result = await platform.Session.ActAsync(new ActRequest
        {
            AttemptId = platform.AttemptId.ToString(), StepId = "trace-1", Run = new RunCommand { Command = "echo traced" },
        });
        Assert.Equal("traced\n", result.Stdout);

        // Spans end after the response is written; give the exporters a moment.
        Activity[] spans = [];
        for (var i = 0; i < 50; i++)
        {
            spans = platform.Spans.Snapshot().DistinctBy(s => s.SpanId).ToArray();
            if (spans.Any(s => IsServerSpan(s, platform.GatewayInternalPort, "/rebench.orchestrator.v1.AttemptSession/Act"))) break;
            await Task.Delay(100);
        }
        const string act = "/rebench.orchestrator.v1.AttemptSession/Act";
        var gateway = Assert.Single(spans, s => IsServerSpan(s, platform.GatewayInternalPort, act));
        var orchestrator = Assert.Single(spans, s => IsServerSpan(s, platform.OrchestratorPort, act));
        var sandbox = Assert.Single(spans, s => IsServerSpan(s, platform.SandboxPort, "/rebench.sandbox.v1.Sandbox/Exec"));

        Assert.Equal(gateway.TraceId, orchestrator.TraceId);
        Assert.Equal(gateway.TraceId, sandbox.TraceId);
        // The trace enters the platform at the gateway: above it there is at most the caller's own client span.
        Assert.DoesNotContain(spans, s => s.SpanId == gateway.ParentSpanId && s.Kind == ActivityKind.Server);
        // Each hop's server span descends from the previous hop's server span.
        Assert.True(IsDescendant(orchestrator, gateway, spans), "orchestrator span is not under the gateway span");
        Assert.True(IsDescendant(sandbox, orchestrator, spans), "sandbox span is not under the orchestrator span");
    }

    private static bool IsDescendant(Activity child, Activity ancestor, Activity[] spans)
    {
        var byId = spans.ToDictionary(s => s.SpanId);
        var current = child;
        while (byId.TryGetValue(current.ParentSpanId, out var parent))
        {
            if (parent.SpanId == ancestor.SpanId) return true;
            current = parent;
        }
        return false;
    }
}
