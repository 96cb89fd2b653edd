namespace ReBench.Sandbox.Tests;

/// <summary>The network attacks: a host outside the environment, and the platform's own ports on the host's loopback.</summary>
public sealed partial class AttackTests
{
    [Fact]
    public async Task Cannot_reach_a_host_outside_the_environment()
    {
        using var outside = new OutsideHost();
        using var llm = new TinyHttpServer("llm");
        // Positive control: the listener answers from the host, and from an environment whose task allows network
        // with no allow-list (open egress through slirp4netns).
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Parse(outside.Address), outside.Port).WaitAsync(TimeSpan.FromSeconds(10));
        }
        var probe = $"exec 3<>/dev/tcp/{outside.Address}/{outside.Port} && head -1 <&3";
        var open = await _sandbox.NewEnvironmentAsync(network: true);
        Assert.Equal("hello\n", (await _client.RunAsync(open, probe, timeoutSeconds: 20)).Stdout);

        // Without the permission, and with it but an allow-list (only the LLM endpoint), the listener is unreachable.
        foreach (var env in new[] { await _sandbox.NewEnvironmentAsync(), await _sandbox.NewEnvironmentAsync(network: true, allowedEndpoints: [$"127.0.0.1:{llm.Port}"]) })
        {
            var r = await _client.RunAsync(env, probe + "; ip -o link 2>/dev/null | wc -l; cat /proc/net/dev | grep -c ':'", timeoutSeconds: 20);
            Assert.DoesNotContain("hello", r.Stdout);
            Assert.Contains("Network is unreachable", r.Stderr);
            Assert.EndsWith("1\n", r.Stdout); // only the loopback interface exists in the environment
        }
    }

    /// <summary>
    /// The platform's own ports on the host's loopback: a real gRPC server (a second sandbox service on Kestrel), the
    /// test run's PostgreSQL and RabbitMQ (when the host reaches them: scripts/test.sh starts both) and a plain
    /// listener. None is reachable: without network, with the network permission and an allowed endpoint (which is
    /// reachable), and with open egress (slirp4netns, whose gateway 10.0.2.2 would be the host's loopback).
    /// </summary>
    [Theory]
    [InlineData("no network")]
    [InlineData("network with an allowed endpoint")]
    [InlineData("network, open egress")]
    public async Task Cannot_reach_the_platforms_loopback_ports(string mode)
    {
        using var grpc = new KestrelSandbox();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var llm = new TinyHttpServer("llm-ok");
        try
        {
            var ports = new List<(string Name, int Port)> { ("gRPC", grpc.Port), ("listener", ((IPEndPoint)listener.LocalEndpoint).Port) };
            Assert.NotNull(await grpc.Client.GetCapacityAsync(new GetCapacityRequest())); // the gRPC port works from the host
            var pgPort = System.Text.RegularExpressions.Regex.Match(ReBench.Testing.TestEnv.PostgresConnectionString, @"(?i)\bPort=(\d+)").Groups[1].Value;
            var pg = int.TryParse(pgPort, out var p) ? p : 5432;
            foreach (var (name, port) in new[] { ("PostgreSQL", pg), ("RabbitMQ", ReBench.Testing.TestEnv.RabbitPort) })
            {
                if (await HostReachesAsync(port)) ports.Add((name, port));
            }

            var env = mode switch
            {
                "no network" => await _sandbox.NewEnvironmentAsync(),
                "network with an allowed endpoint" => await _sandbox.NewEnvironmentAsync(network: true, allowedEndpoints: [$"127.0.0.1:{llm.Port}"]),
                _ => await _sandbox.NewEnvironmentAsync(network: true),
            };
            var addresses = mode == "network, open egress" ? new[] { "127.0.0.1", "10.0.2.2" } : ["127.0.0.1"];
            var script = string.Join("; ", ports.SelectMany(p => addresses.Select(a =>
                $"timeout 10 bash -c 'exec 3<>/dev/tcp/{a}/{p.Port}' && echo 'reached {p.Name} {a}:{p.Port}'")));
            var r = await _client.RunAsync(env, script + "; true", timeoutSeconds: 120);
            Assert.DoesNotContain("reached", r.Stdout);
            Assert.Contains("Connection refused", r.Stderr);
            Assert.False(listener.Pending(), "a connection reached the host's loopback listener");
            // Under scripts/test.sh (which exports where they run) the real PostgreSQL and RabbitMQ must be among the targets.
            if (System.Environment.GetEnvironmentVariable("REBENCH_TEST_PG") is not null) Assert.Equal(4, ports.Count);
            if (mode == "network with an allowed endpoint")
            {
                // ... while the allowed endpoint itself answers through the proxy.
                Assert.Equal("llm-ok", (await _client.RunAsync(env, $"curl -sS --max-time 20 http://127.0.0.1:{llm.Port}/", timeoutSeconds: 40)).Stdout);
            }
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<bool> HostReachesAsync(int port)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException) { return false; }
    }
}
