using System.Diagnostics;

namespace ReBench.Sandbox.Gpu.Tests;

public sealed partial class KubernetesDriverTests
{
    /// <summary>
    /// agent_readable under Kubernetes: the agent's container never mounts the protected area; it gets a read-only
    /// volume at the same path holding copies of the readable entries only, and home links to readable top-level files.
    /// The init container's script is run here on local folders to check what it copies.
    /// </summary>
    [Fact]
    public async Task Agent_readable_entries_reach_the_agents_container_read_only_and_hidden_ones_do_not()
    {
        var secret = Path.Combine(_work, "secret");
        Directory.CreateDirectory(Path.Combine(secret, "data"));
        await File.WriteAllTextAsync(Path.Combine(secret, "score.py"), "print('unofficial')\n");
        await File.WriteAllTextAsync(Path.Combine(secret, "data", "public.txt"), "public");
        await File.WriteAllTextAsync(Path.Combine(secret, "data", "test.jsonl"), "held-out");
        await File.WriteAllTextAsync(Path.Combine(secret, "answer.txt"), "42");

        await Driver().CreateAsync(new EnvironmentSpec("readable-1", "t1", null, secret, null, false, new Dictionary<string, string>(),
            AgentReadable: ["score.py", "data/public.txt", "missing.py"]), default);

        var spec = _api.Requests.Single(r => r.Path.EndsWith("/pods") && r.Method == "POST").Body!["spec"]!;
        var agent = spec["containers"]!.AsArray().Single(c => (string)c!["name"]! == "agent")!;
        var mount = agent["volumeMounts"]!.AsArray().Single(m => (string)m!["name"]! == "readable")!;
        Assert.Equal(_options.ProtectedPath, (string?)mount["mountPath"]);
        Assert.True((bool)mount["readOnly"]!);
        Assert.DoesNotContain(agent["volumeMounts"]!.AsArray(), m => (string)m!["name"]! == "protected");
        Assert.NotNull(spec["volumes"]!.AsArray().Single(v => (string)v!["name"]! == "readable")!["emptyDir"]);

        // The init script, pointed at local folders: the bundle (as the ConfigMap presents it) and the two volumes.
        var script = (string)spec["initContainers"]![0]!["command"]![2]!;
        var (bundleAgent, readable) = (Path.Combine(_work, "bundle-agent"), Path.Combine(_work, "readable"));
        Directory.CreateDirectory(bundleAgent);
        Directory.CreateDirectory(readable);
        script = script.Replace("/bundle/protected", secret).Replace("/bundle/agent", bundleAgent).Replace("/readable", readable);
        using (var sh = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { RedirectStandardError = true })!)
        {
            var err = await sh.StandardError.ReadToEndAsync();
            await sh.WaitForExitAsync();
            Assert.True(sh.ExitCode == 0, err);
        }
        var copied = Directory.EnumerateFiles(readable, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(readable, f)).Order();
        Assert.Equal(["data/public.txt", "score.py"], copied);
        Assert.Equal(Path.Combine(_options.ProtectedPath, "score.py"), new FileInfo(Path.Combine(_options.HomePath, "score.py")).LinkTarget);
        Assert.False(Path.Exists(Path.Combine(_options.HomePath, "missing.py")));
    }

    [Fact]
    public async Task A_bad_agent_readable_entry_is_refused_before_anything_is_created()
    {
        var e = await Assert.ThrowsAsync<SandboxException>(() => Driver().CreateAsync(
            new EnvironmentSpec("b", "t", null, null, null, false, new Dictionary<string, string>(), AgentReadable: ["../escape"]), default));
        Assert.Equal(SandboxError.InvalidArgument, e.Error);
        Assert.Empty(_api.Requests);
    }
}
