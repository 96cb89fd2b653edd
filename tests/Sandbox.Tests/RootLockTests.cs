using SandboxEntryPoint = ReBench.Sandbox.SandboxEntryPoint;

namespace ReBench.Sandbox.Tests;

/// <summary>
/// A second sandbox service on a root that a live one serves must refuse to start: re-adopting the environments would
/// kill the live service's running work (seen by an attacker: a step ended 137 and a scorer died). The live holder is
/// another process here (flock(1) holding the lock, its pid in the pid file), as it would be on a host.
/// </summary>
public sealed class RootLockTests
{
    [Fact]
    public async Task A_second_service_on_a_root_in_use_by_another_process_refuses_to_start_and_kills_nothing()
    {
        var root = Directory.CreateTempSubdirectory("rebench-rootlock-").FullName;
        var bystander = Path.Combine(root, "bystander-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(bystander, "home")); // looks like an environment to re-adopt
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", "--nonblock", Path.Combine(root, ".service.lock"),
            "sh", "-c", $"echo $PPID > {root}/.service.pid; cd {bystander}/home && exec sleep 60"]))!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.Exists(Path.Combine(root, ".service.pid")) || (await File.ReadAllTextAsync(Path.Combine(root, ".service.pid"))).Trim().Length == 0)
            {
                Assert.True(DateTime.UtcNow < deadline && !holder.HasExited, "flock did not take the lock");
                await Task.Delay(20);
            }
            using var factory = new WebApplicationFactory<SandboxEntryPoint>().WithTestPlatformKey().WithWebHostBuilder(b => b.UseSetting("Sandbox:Root", root));
            var failure = await Record.ExceptionAsync(async () =>
            {
                var client = new V1.Sandbox.SandboxClient(TestPlatformKey.Channel(factory.Server.BaseAddress, factory.Server.CreateHandler()));
                await client.GetCapacityAsync(new GetCapacityRequest());
            });
            Assert.NotNull(failure);
            Assert.Contains("is in use by another sandbox service", failure.ToString());
            Assert.False(holder.HasExited, "the live holder's process (working in the bystander's home) was killed");
        }
        finally
        {
            if (!holder.HasExited) holder.Kill(entireProcessTree: true);
            Directory.Delete(root, recursive: true);
        }
    }
}
