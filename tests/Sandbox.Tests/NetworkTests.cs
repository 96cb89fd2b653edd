using System.Text;
using System.Text.Json;

namespace ReBench.Sandbox.Tests;

/// <summary>
/// The environment's network namespace (README, "Sandbox isolation"): only the allowed endpoints are reachable, through
/// the service's proxy; the network permission gives egress without the host's loopback. Every target is a listener
/// of the test on 127.0.0.1 or in a network namespace the test creates: nothing leaves this machine.
/// </summary>
public sealed class NetworkTests(IsolatedSandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<IsolatedSandboxFixture>
{
    private async Task<string> NewEnvironmentAsync(bool network = false, params string[] endpoints)
    {
        var request = new CreateEnvironmentRequest { TaskId = "test-task", Network = network };
        request.AllowedEndpoints.AddRange(endpoints);
        return (await sandbox.Client.CreateEnvironmentAsync(request)).EnvironmentId;
    }

    [Fact]
    public async Task Allowed_endpoints_without_the_network_permission_are_invalid_argument()
    {
        using var llm = new TinyHttpServer("unused");
        var e = await SandboxClientExtensions.FailsAsync(() => NewEnvironmentAsync(false, $"127.0.0.1:{llm.Port}"), StatusCode.InvalidArgument);
        Assert.Contains("network permission", e.Status.Detail);
        Assert.Empty(llm.RequestLines);
    }

    /// <summary>The network permission with an allow-list: the LLM endpoint and nothing else (no slirp4netns, no tap0).</summary>
    [Fact]
    public async Task An_allowed_loopback_endpoint_is_reachable_and_nothing_else_is()
    {
        using var llm = new TinyHttpServer("model-says-hi");
        var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        using var outside = new OutsideHost();
        try
        {
            var otherPort = ((IPEndPoint)other.LocalEndpoint).Port;
            var env = await NewEnvironmentAsync(true, $"127.0.0.1:{llm.Port}");

            var allowed = await sandbox.Client.RunAsync(env, $"curl -sS --max-time 20 http://127.0.0.1:{llm.Port}/v1/chat/completions -d '{{}}'", timeoutSeconds: 40);
            Assert.Equal("model-says-hi", allowed.Stdout);
            Assert.Contains("POST /v1/chat/completions", llm.Requests);

            var probe = await sandbox.Client.RunAsync(env,
                $"exec 3<>/dev/tcp/127.0.0.1/{otherPort} && echo reached-other; exec 4<>/dev/tcp/{outside.Address}/{outside.Port} && echo reached-outside; " +
                "ip -o link | wc -l", timeoutSeconds: 30);
            Assert.DoesNotContain("reached", probe.Stdout);
            Assert.Contains("Connection refused", probe.Stderr); // the other port exists only on the host's loopback
            Assert.Contains("Network is unreachable", probe.Stderr); // no route anywhere but lo
            Assert.EndsWith("1\n", probe.Stdout);
            Assert.False(other.Pending(), "a connection reached the host's other loopback port");
            Assert.Equal(0, SlirpPidOf(env)); // the allow-list replaces open egress
        }
        finally
        {
            other.Stop();
        }
    }

    [Fact]
    public async Task A_named_endpoint_is_mapped_in_etc_hosts_and_localhost_is_served_on_127_0_0_1()
    {
        using var llm = new TinyHttpServer("via-localhost");
        // api.example.test is only mapped, never connected to: resolving it on the host could send a DNS query out.
        var env = await NewEnvironmentAsync(true, $"localhost:{llm.Port}", "api.example.test:443", "models.example.test:443");
        var r = await sandbox.Client.RunAsync(env,
            $"getent hosts api.example.test models.example.test; curl -sS --max-time 20 http://localhost:{llm.Port}/", timeoutSeconds: 40);
        var lines = r.Stdout.Split('\n');
        Assert.Matches(@"^127\.0\.0\.1\s+api\.example\.test$", lines[0]);
        Assert.Matches(@"^127\.0\.0\.2\s+models\.example\.test$", lines[1]); // same port, so its own loopback address
        Assert.EndsWith("via-localhost", r.Stdout);
    }

    [Fact]
    public async Task An_allowed_endpoint_in_another_namespace_is_reached_at_its_own_address()
    {
        using var outside = new OutsideHost();
        var env = await NewEnvironmentAsync(true, $"{outside.Address}:{outside.Port}");
        var r = await sandbox.Client.RunAsync(env,
            $"exec 3<>/dev/tcp/{outside.Address}/{outside.Port} && head -1 <&3; exec 4<>/dev/tcp/{outside.Address}/{outside.Port + 1} && echo other-port", timeoutSeconds: 30);
        Assert.StartsWith("hello\n", r.Stdout); // served on the same address inside (added to lo), forwarded by the service
        Assert.DoesNotContain("other-port", r.Stdout);
        Assert.Contains("Connection refused", r.Stderr);
    }

    [Theory]
    [InlineData("no-port")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("bad host:80")]
    [InlineData("[::1]")]
    [InlineData("a:b:c")]
    [InlineData("-bad.example:80")]
    public async Task Malformed_endpoints_are_invalid_argument(string endpoint)
    {
        var e = await SandboxClientExtensions.FailsAsync(() => NewEnvironmentAsync(true, endpoint), StatusCode.InvalidArgument);
        Assert.Contains("allowed_endpoints", e.Status.Detail);
    }

    [Fact]
    public async Task The_network_permission_without_an_allow_list_gives_egress_in_its_own_namespace_without_the_hosts_loopback()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var env = await NewEnvironmentAsync(network: true);
            var r = await sandbox.Client.RunAsync(env,
                $"exec 3<>/dev/tcp/127.0.0.1/{port} && echo reached-lo; exec 4<>/dev/tcp/10.0.2.2/{port} && echo reached-gateway; ip -o link | cut -d: -f2",
                timeoutSeconds: 30);
            Assert.DoesNotContain("reached", r.Stdout);
            Assert.Contains("tap0", r.Stdout); // slirp4netns's device: a namespace of its own, not the host's
            Assert.False(listener.Pending(), "a connection reached the host's loopback listener");

            var slirp = SlirpPidOf(env);
            Assert.True(slirp > 0 && Directory.Exists($"/proc/{slirp}"));
            await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = env });
            await Task.Delay(200);
            Assert.False(File.Exists($"/proc/{slirp}/cmdline") && (await File.ReadAllTextAsync($"/proc/{slirp}/cmdline")).Contains("slirp4netns"), "slirp4netns survived Destroy");
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Figures for the README: connection setup and throughput through the proxy vs the host's own loopback.</summary>
    [Fact]
    public async Task Proxy_overhead_is_measured()
    {
        using var server = new TinyHttpServer("x");
        var env = await NewEnvironmentAsync(true, $"127.0.0.1:{server.Port}");
        const string Script = "import socket,sys,time\nport=int(sys.argv[1]);n=200;t=time.perf_counter()\n" +
            "for _ in range(n):\n s=socket.create_connection(('127.0.0.1',port));s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n" +
            " while s.recv(65536): pass\n s.close()\nprint(round((time.perf_counter()-t)/n*1000,3))\n";
        var inside = await sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env, Command = $"python3 - {server.Port}", Stdin = Google.Protobuf.ByteString.CopyFromUtf8(Script), TimeoutSeconds = 120,
        });
        var host = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-", server.Port.ToString()]) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        await host.StandardInput.WriteAsync(Script);
        host.StandardInput.Close();
        var direct = (await host.StandardOutput.ReadToEndAsync()).Trim();
        await host.WaitForExitAsync();
        output.WriteLine($"HTTP/1.0 request on a new connection, mean of 200: through the proxy {inside.Stdout.Trim()} ms, host loopback direct {direct} ms");

        using var bulk = new TinyHttpServer(new string('x', 64 * 1024 * 1024));
        var bulkEnv = await NewEnvironmentAsync(true, $"127.0.0.1:{bulk.Port}");
        var curl = $"curl -sS -o /dev/null -w '%{{speed_download}}' http://127.0.0.1:{bulk.Port}/";
        var proxied = (await sandbox.Client.RunAsync(bulkEnv, curl, timeoutSeconds: 120)).Stdout;
        var plain = Host.Run("/bin/sh", "-c", curl).Stdout;
        foreach (var (label, network, endpoints) in new[] { ("no network", false, Array.Empty<string>()), ("one allowed endpoint", true, [$"127.0.0.1:{server.Port}"]), ("network permission, open egress (slirp4netns)", true, Array.Empty<string>()) })
        {
            var times = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                var id = await NewEnvironmentAsync(network, endpoints);
                await sandbox.Client.RunAsync(id, "true");
                await sandbox.Client.DestroyEnvironmentAsync(new DestroyEnvironmentRequest { EnvironmentId = id });
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            output.WriteLine($"create + first Exec + destroy, {label}: median of 5 {times.Order().ElementAt(2):F0} ms");
        }
        output.WriteLine($"64 MiB download: through the proxy {double.Parse(proxied, System.Globalization.CultureInfo.InvariantCulture) / 1048576:F0} MiB/s, " +
            $"host loopback direct {double.Parse(plain, System.Globalization.CultureInfo.InvariantCulture) / 1048576:F0} MiB/s");
        Assert.True(double.Parse(inside.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0, inside.Stderr);
    }

    private int SlirpPidOf(string env)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(sandbox.Root, env, "isolation.json")));
        return doc.RootElement.GetProperty("SlirpPid").GetInt32();
    }
}

/// <summary>A real HTTP/1.x server on 127.0.0.1 (one response per connection) standing in for an LLM endpoint.</summary>
public sealed class TinyHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _response;

    public TinyHttpServer(string body)
    {
        _response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        _listener.Start(128);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }
    public System.Collections.Concurrent.ConcurrentQueue<string> RequestLines { get; } = new();
    public string Requests => string.Join("\n", RequestLines);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = Task.Run(async () =>
            {
                using var _ = client;
                try
                {
                    var stream = client.GetStream();
                    var head = new StringBuilder();
                    var buffer = new byte[8192];
                    while (!head.ToString().Contains("\r\n\r\n"))
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) break;
                        head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    RequestLines.Enqueue(head.ToString().Split("\r\n")[0]);
                    await stream.WriteAsync(_response, _stop.Token);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
