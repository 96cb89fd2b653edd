using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReBench.Sandbox;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>The Kubernetes driver against <see cref="FakeKubeApi"/>: the requests it makes and how it reads the answers.</summary>
public sealed partial class KubernetesDriverTests : IAsyncLifetime
{
    private FakeKubeApi _api = null!;
    private readonly string _work = Directory.CreateTempSubdirectory("rebench-k8s-tests-").FullName;
    private KubernetesOptions _options = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync();
        // The fake runs exec argv as local processes, so the in-pod paths point at local directories.
        Directory.CreateDirectory(Path.Combine(_work, "home"));
        Directory.CreateDirectory(Path.Combine(_work, "protected"));
        _options = new KubernetesOptions
        {
            ApiServer = _api.Url, Namespace = "rebench-test", HomePath = Path.Combine(_work, "home"),
            ProtectedPath = Path.Combine(_work, "protected"), PollMilliseconds = 50, PodStartTimeoutSeconds = 30,
        };
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_work, true);
    }

    private KubernetesEnvironmentDriver Driver() => new(
        new k8s.Kubernetes(KubernetesSetup.ClientConfiguration(_options)), Options.Create(_options), new GpuOptions(),
        Options.Create(new SandboxOptions()), TimeProvider.System, NullLogger<KubernetesEnvironmentDriver>.Instance);

    [Fact]
    public async Task Create_posts_bundles_a_deny_all_policy_and_a_non_root_pod_with_GPU_limits_then_waits_for_running()
    {
        var bundle = Path.Combine(_work, "bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "nested"));
        await File.WriteAllTextAsync(Path.Combine(bundle, "nested", "task.txt"), "do the task");
        await File.WriteAllTextAsync(Path.Combine(bundle, "run.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(bundle, "run.sh"), (UnixFileMode)0b111_101_101);
        var secret = Path.Combine(_work, "secret");
        Directory.CreateDirectory(secret);
        await File.WriteAllTextAsync(Path.Combine(secret, "answer.txt"), "42");
        _api.PendingReads = 2;

        var info = await Driver().CreateAsync(new EnvironmentSpec("Attempt_1.a", "t1", bundle, secret,
            new ResourceSpec(4, 16384, 10240, 2, "H100"), false, new Dictionary<string, string>()), default);
        Assert.Equal(("Attempt_1.a", "kubernetes", EnvironmentState.Ready), (info.EnvironmentId, info.Driver, info.State));

        var pod = PodSpecBuilder.PodName("Attempt_1.a");
        Assert.Matches("^rebench-[0-9a-f]{20}$", pod);
        var calls = _api.Requests.Select(r => $"{r.Method} {r.Path}").ToList();
        Assert.Equal(
        [
            "POST /api/v1/namespaces/rebench-test/configmaps",
            "POST /api/v1/namespaces/rebench-test/configmaps",
            "POST /apis/networking.k8s.io/v1/namespaces/rebench-test/networkpolicies",
            "POST /api/v1/namespaces/rebench-test/pods",
        ], calls.Take(4));
        Assert.True(calls.Skip(4).Count(c => c == $"GET /api/v1/namespaces/rebench-test/pods/{pod}") >= 3, "polled until Running");

        var p = _api.Requests.Single(r => r.Path.EndsWith("/pods") && r.Method == "POST").Body!;
        Assert.Equal("Attempt_1.a", p["metadata"]!["annotations"]!["rebench.dev/environment-id"]!.GetValue<string>());
        var spec = p["spec"]!;
        Assert.Equal("Never", (string?)spec["restartPolicy"]);
        Assert.False((bool)spec["automountServiceAccountToken"]!);
        Assert.True((bool)spec["securityContext"]!["runAsNonRoot"]!);
        Assert.Equal(1000, (long)spec["securityContext"]!["runAsUser"]!);
        Assert.Equal("H100", (string?)spec["nodeSelector"]!["rebench.dev/gpu-model"]);
        var containers = spec["containers"]!.AsArray();
        Assert.Equal(["agent", "scorer"], containers.Select(c => (string)c!["name"]!));
        foreach (var c in containers.Concat(spec["initContainers"]!.AsArray()))
        {
            var sc = c!["securityContext"]!;
            Assert.False((bool)sc["allowPrivilegeEscalation"]!);
            Assert.True((bool)sc["runAsNonRoot"]!);
            Assert.Equal(1000, (long)sc["runAsUser"]!);
            Assert.Equal(["ALL"], sc["capabilities"]!["drop"]!.AsArray().Select(x => (string)x!));
        }
        var agent = containers[0]!;
        var limits = agent["resources"]!["limits"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "16Gi", ["ephemeral-storage"] = "10Gi", ["nvidia.com/gpu"] = "2" }, limits);
        Assert.Equal(limits.Count, agent["resources"]!["requests"]!.AsObject().Count);
        // Only the scorer's container mounts the protected files.
        Assert.DoesNotContain(agent["volumeMounts"]!.AsArray(), m => (string)m!["name"]! == "protected");
        Assert.Contains(containers[1]!["volumeMounts"]!.AsArray(), m => (string)m!["name"]! == "protected");
        Assert.Null(containers[1]!["resources"]!["limits"]!["nvidia.com/gpu"]);

        var policy = _api.Object("networkpolicies", "rebench-test", pod)!;
        Assert.Equal(pod, (string?)policy["spec"]!["podSelector"]!["matchLabels"]!["rebench.dev/environment"]);
        Assert.Equal(["Ingress", "Egress"], policy["spec"]!["policyTypes"]!.AsArray().Select(x => (string)x!));
        Assert.Empty(policy["spec"]!["egress"]!.AsArray());
        Assert.Empty(policy["spec"]!["ingress"]!.AsArray());

        var map = _api.Object("configmaps", "rebench-test", pod + "-agent")!;
        var items = spec["volumes"]!.AsArray().Single(v => (string)v!["name"]! == "agent-bundle")!["configMap"]!["items"]!.AsArray();
        var byPath = items.ToDictionary(i => (string)i!["path"]!, i => ((string)i!["key"]!, (int)i!["mode"]!));
        Assert.Equal(["nested/task.txt", "run.sh"], byPath.Keys.Order());
        Assert.Equal(0b111_101_101, byPath["run.sh"].Item2);
        Assert.Equal("do the task", Encoding.UTF8.GetString(Convert.FromBase64String((string)map["binaryData"]![byPath["nested/task.txt"].Item1]!)));
        var secretMap = _api.Object("configmaps", "rebench-test", pod + "-protected")!;
        Assert.Equal("42", Encoding.UTF8.GetString(Convert.FromBase64String((string)secretMap["binaryData"]!["f0"]!)));
    }

    [Fact]
    public async Task Network_permission_opens_egress_only()
    {
        await Driver().CreateAsync(new EnvironmentSpec("net", "t", null, null, null, true, new Dictionary<string, string>()), default);
        var policy = _api.Object("networkpolicies", "rebench-test", PodSpecBuilder.PodName("net"))!["spec"]!;
        Assert.Single(policy["egress"]!.AsArray());
        Assert.Empty(policy["egress"]![0]!.AsObject());
        Assert.Empty(policy["ingress"]!.AsArray());
        var pod = _api.Requests.Single(r => r.Path.EndsWith("/pods") && r.Method == "POST").Body!["spec"]!;
        Assert.Null(pod["nodeSelector"]);
        Assert.Null(pod["containers"]![0]!["resources"]);
    }

    [Theory]
    [InlineData("v5.channel.k8s.io")]
    [InlineData("v4.channel.k8s.io")]
    public async Task Exec_streams_output_exit_code_and_stdin_over_the_websocket_channels(string serverProtocol)
    {
        _api.Protocols = serverProtocol.StartsWith("v5") ? ["v5.channel.k8s.io", "v4.channel.k8s.io"] : ["v4.channel.k8s.io"];
        var driver = Driver();
        await driver.CreateAsync(new EnvironmentSpec("e", "t", null, null, null, false, new Dictionary<string, string>()), default);

        var (stdout, stderr, exit) = await Run(driver, new ExecSpec("e", "echo out; echo err >&2; echo \"$FOO $HOME\"; exit 3", null, null,
            new Dictionary<string, string> { ["FOO"] = "bar" }, 0, false, ReadOnlyMemory<byte>.Empty));
        Assert.Equal($"out\nbar {_options.HomePath}\n", stdout);
        Assert.Equal("err\n", stderr);
        Assert.Equal((3, false), (exit.ExitCode, exit.TimedOut));

        var call = _api.Execs.Last();
        Assert.Equal((PodSpecBuilder.PodName("e"), "agent", serverProtocol, false), (call.Pod, call.Container, call.Protocol, call.Stdin));
        Assert.Equal("env", call.Command[0]);
        Assert.Contains("FOO=bar", call.Command);
        Assert.Contains($"HOME={_options.HomePath}", call.Command);
        Assert.Equal(["timeout", "-k", "5", "600s", "/bin/bash", "-c"], call.Command.SkipWhile(a => a != "timeout").Take(6));
        Assert.Equal(serverProtocol, driver.Exec.NegotiatedProtocol);

        // Stdin: v5 closes the channel; v4 cannot, so the length framing (head -c) must end it.
        var input = string.Concat(Enumerable.Repeat("0123456789", 10_000)); // 100 kB, several frames
        var (echoed, _, catExit) = await Run(driver, new ExecSpec("e", "cat | wc -c; echo done", null, TimeSpan.FromSeconds(60),
            new Dictionary<string, string>(), 0, false, Encoding.UTF8.GetBytes(input)));
        Assert.Equal($"{input.Length}\ndone\n", echoed);
        Assert.Equal(0, catExit.ExitCode);
        var stdinCall = _api.Execs.Last();
        Assert.Equal(input.Length, stdinCall.StdinReceived.Length);
        Assert.Equal(serverProtocol.StartsWith("v5"), stdinCall.StdinClosedByClient);
    }

    [Fact]
    public async Task Exec_timeout_kills_the_command_and_reports_it()
    {
        var driver = Driver();
        await driver.CreateAsync(new EnvironmentSpec("slow", "t", null, null, null, false, new Dictionary<string, string>()), default);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var (_, _, exit) = await Run(driver, new ExecSpec("slow", "sleep 60", null, TimeSpan.FromSeconds(1), new Dictionary<string, string>(), 0, false, default));
        Assert.Equal((124, true), (exit.ExitCode, exit.TimedOut));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Files_travel_through_exec_and_the_protected_area_is_read_in_the_scorer_container()
    {
        var driver = Driver();
        await driver.CreateAsync(new EnvironmentSpec("f", "t", null, null, null, false, new Dictionary<string, string>()), default);
        var content = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
        var written = await driver.WriteFileAsync("f", "sub/dir/data.bin", content, executable: true, default);
        Assert.Equal(content.Length, written.Size);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_options.HomePath, "sub/dir/data.bin")));
        Assert.True((File.GetUnixFileMode(Path.Combine(_options.HomePath, "sub/dir/data.bin")) & UnixFileMode.UserExecute) != 0);

        var read = await driver.ReadFileAsync("f", "sub/dir/data.bin", FileArea.Home, 0, default);
        Assert.Equal(content, read.Content.ToArray());
        Assert.Equal((content.Length, false, written.Sha256), (read.Size, read.Truncated, read.Sha256));
        var head = await driver.ReadFileAsync("f", "sub/dir/data.bin", FileArea.Home, 1000, default);
        Assert.Equal((1000, content.Length, true), (head.Content.Length, head.Size, head.Truncated));
        Assert.Equal("agent", _api.Execs.Last().Container);

        await File.WriteAllTextAsync(Path.Combine(_options.ProtectedPath, "answer.txt"), "42");
        Assert.Equal("42", Encoding.UTF8.GetString((await driver.ReadFileAsync("f", "answer.txt", FileArea.Protected, 0, default)).Content.Span));
        Assert.Equal("scorer", _api.Execs.Last().Container);

        var missing = await Assert.ThrowsAsync<SandboxException>(() => driver.ReadFileAsync("f", "nope.txt", FileArea.Home, 0, default));
        Assert.Equal(SandboxError.NotFound, missing.Error);
        var dir = await Assert.ThrowsAsync<SandboxException>(() => driver.WriteFileAsync("f", "sub", content, false, default));
        Assert.Equal(SandboxError.InvalidArgument, dir.Error);
        var escape = await Assert.ThrowsAsync<SandboxException>(() => driver.ReadFileAsync("f", "../x", FileArea.Home, 0, default));
        Assert.Equal(SandboxError.InvalidArgument, escape.Error);
    }

    [Fact]
    public async Task Destroy_deletes_the_pod_its_policy_and_bundles()
    {
        var driver = Driver();
        await driver.CreateAsync(new EnvironmentSpec("d", "t", null, null, null, false, new Dictionary<string, string>()), default);
        Assert.Equal(1, (await driver.CountAsync(default)).Running);
        Assert.True(await driver.DestroyAsync("d", default));
        var pod = PodSpecBuilder.PodName("d");
        Assert.Equal(
        [
            $"DELETE /api/v1/namespaces/rebench-test/pods/{pod}",
            $"DELETE /apis/networking.k8s.io/v1/namespaces/rebench-test/networkpolicies/{pod}",
            $"DELETE /api/v1/namespaces/rebench-test/configmaps/{pod}-agent",
            $"DELETE /api/v1/namespaces/rebench-test/configmaps/{pod}-protected",
        ], _api.Requests.Where(r => r.Method == "DELETE").Select(r => $"{r.Method} {r.Path}"));
        Assert.Contains("gracePeriodSeconds=0", _api.Requests.First(r => r.Method == "DELETE").Query);
        Assert.Empty(_api.ObjectKeys);
        Assert.False(await driver.DestroyAsync("d", default));
        Assert.Equal(SandboxError.NotFound, (await Assert.ThrowsAsync<SandboxException>(() => driver.GetAsync("d", default))).Error);
        Assert.Equal(SandboxError.NotFound, (await Assert.ThrowsAsync<SandboxException>(() => Run(driver,
            new ExecSpec("d", "true", null, null, new Dictionary<string, string>(), 0, false, default)))).Error);
    }

    [Fact]
    public async Task Bad_resources_and_oversized_bundles_are_refused_before_anything_is_created()
    {
        var driver = Driver();
        var negative = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(
            new EnvironmentSpec("b", "t", null, null, new ResourceSpec(-1, 0, 0, 0, ""), false, new Dictionary<string, string>()), default));
        Assert.Equal(SandboxError.InvalidArgument, negative.Error);
        var gpus = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(
            new EnvironmentSpec("b", "t", null, null, new ResourceSpec(1, 0, 0, -2, "H100"), false, new Dictionary<string, string>()), default));
        Assert.Equal("resources.gpu_count -2 is negative", gpus.Message);

        var big = Path.Combine(_work, "big");
        Directory.CreateDirectory(big);
        await File.WriteAllBytesAsync(Path.Combine(big, "weights.bin"), new byte[_options.MaxBundleBytes + 1]);
        var tooBig = await Assert.ThrowsAsync<SandboxException>(() => driver.CreateAsync(
            new EnvironmentSpec("b", "t", big, null, null, false, new Dictionary<string, string>()), default));
        Assert.Equal(SandboxError.FailedPrecondition, tooBig.Error);
        Assert.Contains("Sandbox:Kubernetes:MaxBundleBytes", tooBig.Message);
        Assert.Empty(_api.Requests);
    }

    private static async Task<(string Stdout, string Stderr, ExecCompleted Exit)> Run(KubernetesEnvironmentDriver driver, ExecSpec spec)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        ExecCompleted? exit = null;
        await foreach (var e in driver.ExecAsync(spec, default))
        {
            if (e is ExecChunk { Stream: OutputStream.Stdout } o) stdout.Write(o.Data.Span);
            else if (e is ExecChunk c) stderr.Write(c.Data.Span);
            else exit = (ExecCompleted)e;
        }
        return (Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()), exit!);
    }
}
