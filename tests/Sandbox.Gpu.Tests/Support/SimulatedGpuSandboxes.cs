using Microsoft.AspNetCore.Mvc.Testing;
using ReBench.Testing;
using SandboxEntryPoint = ReBench.Sandbox.SandboxEntryPoint;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>
/// Sandbox services in process with the local driver and a simulated 8xH100 + 4xA100 inventory, all on one root (a
/// second one started is the first one restarted); stopped and the root deleted with the test.
/// </summary>
internal sealed class SimulatedGpuSandboxes(string prefix) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The services' root folder (Sandbox:Root).</summary>
    public string Root => _root;
    private readonly List<IDisposable> _factories = [];

    /// <summary>A client of a new service; <paramref name="settings"/> over the simulated inventory's.</summary>
    public V1.Sandbox.SandboxClient Start(params (string Key, string Value)[] settings)
    {
        var factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b =>
        {
            b.UseSetting("Sandbox:Root", _root);
            b.UseSetting("Sandbox:Gpus:Source", "simulated");
            b.UseSetting("Sandbox:Gpus:Simulated", "H100:8,A100:4");
            foreach (var (k, v) in settings) b.UseSetting(k, v);
        });
        _factories.Add(factory);
        return new V1.Sandbox.SandboxClient(TestPlatformKey.Channel(factory.Server.BaseAddress, factory.Server.CreateHandler()));
    }

    public void Dispose()
    {
        foreach (var f in _factories) f.Dispose();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }
}
