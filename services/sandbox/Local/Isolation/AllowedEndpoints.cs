using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local.Isolation;

/// <summary>One <c>host:port</c> an environment may reach through the sandbox's proxy.</summary>
public sealed record AllowedEndpoint(string Host, int Port)
{
    public const int MaxPerEnvironment = 32;
    private static readonly Regex HostName = new("^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.CultureInvariant);

    public IPAddress? Address => IPAddress.TryParse(Host, out var ip) ? ip : null;

    public override string ToString() => Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>
    /// The endpoints of a task: none without the network permission (no network at all; endpoints given anyway are
    /// INVALID_ARGUMENT rather than silently dropped); with it, these and nothing else. An empty list with the
    /// permission means open egress (see README, "Sandbox isolation").
    /// </summary>
    public static IReadOnlyList<AllowedEndpoint> ForTask(bool network, IEnumerable<string>? values)
    {
        var list = ParseAll(values);
        if (list.Count > 0 && !network)
        {
            throw SandboxException.Invalid($"allowed_endpoints ({string.Join(", ", list)}) need the task's network permission (network: true); without it an environment has no network at all");
        }
        return list;
    }

    /// <summary>Parses <c>host:port</c> / <c>[v6]:port</c> entries; bad input is INVALID_ARGUMENT naming the entry.</summary>
    public static IReadOnlyList<AllowedEndpoint> ParseAll(IEnumerable<string>? values)
    {
        var list = new List<AllowedEndpoint>();
        foreach (var raw in values ?? [])
        {
            var e = Parse(raw);
            if (!list.Contains(e)) list.Add(e);
        }
        if (list.Count > MaxPerEnvironment) throw SandboxException.Invalid($"allowed_endpoints has {list.Count} entries; at most {MaxPerEnvironment}");
        return list;
    }

    public static AllowedEndpoint Parse(string raw)
    {
        var shown = SandboxNames.Printable(raw);
        var bad = SandboxException.Invalid($"allowed_endpoints entry '{shown}' is not host:port (a DNS name or IP address, port 1-65535)");
        var value = raw.Trim();
        if (value.Length == 0 || value.Length > 300 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) throw bad;
        string host, port;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) throw bad;
            (host, port) = (value[1..close], value[(close + 2)..]);
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) throw bad;
            host = v6.ToString();
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon <= 0 || value.IndexOf(':') != colon) throw bad;
            (host, port) = (value[..colon], value[(colon + 1)..]);
            if (host.All(c => char.IsAsciiDigit(c) || c == '.'))
            {
                // Dotted quads only: IPAddress would also take "1.2.3" or "12345" (inet_aton's shorthand forms).
                if (host.Split('.').Length != 4 || !IPAddress.TryParse(host, out var v4)) throw bad;
                host = v4.ToString();
            }
            else if (!HostName.IsMatch(host)) throw bad;
            else host = host.ToLowerInvariant();
        }
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, null, out var p) || p is < 1 or > 65535) throw bad;
        return new AllowedEndpoint(host, p);
    }
}

/// <summary>Where an allowed endpoint is served inside the environment's network namespace.</summary>
/// <param name="AddToLoopback">A non-loopback IP endpoint: its address is added to the namespace's <c>lo</c>, so the agent uses it unchanged.</param>
/// <param name="HostsName">A DNS name mapped to <paramref name="Listen"/> in the environment's /etc/hosts (TLS with SNI still works end to end).</param>
public sealed record EndpointBinding(AllowedEndpoint Target, IPAddress Listen, bool AddToLoopback, string? HostsName);

public static class EndpointPlan
{
    /// <summary>
    /// IP endpoints are served on their own address; <c>localhost</c> on 127.0.0.1; each other DNS name on the first
    /// 127.0.0.n (n = 1, 2, ...) where none of its ports is taken yet, so two names on port 443 do not collide.
    /// </summary>
    public static IReadOnlyList<EndpointBinding> Bind(IReadOnlyList<AllowedEndpoint> endpoints)
    {
        var bindings = new List<EndpointBinding>();
        var taken = new HashSet<(string, int)>();
        foreach (var e in endpoints.Where(e => e.Address is not null || e.Host == "localhost"))
        {
            var ip = e.Address ?? IPAddress.Loopback;
            bindings.Add(new EndpointBinding(e, ip, !IPAddress.IsLoopback(ip), null));
            taken.Add((ip.ToString(), e.Port));
        }
        foreach (var name in endpoints.Where(e => e.Address is null && e.Host != "localhost").GroupBy(e => e.Host))
        {
            IPAddress? chosen = null;
            for (var n = 0; chosen is null && n < 250 * 250; n++)
            {
                var candidate = new IPAddress([127, 0, (byte)(n / 250), (byte)(n % 250 + 1)]);
                if (candidate.ToString() == "127.0.1.1") continue; // Debian's own host-name address
                if (name.All(e => !taken.Contains((candidate.ToString(), e.Port)))) chosen = candidate;
            }
            foreach (var e in name)
            {
                bindings.Add(new EndpointBinding(e, chosen!, false, e.Host));
                taken.Add((chosen!.ToString(), e.Port));
            }
        }
        return bindings;
    }

    /// <summary>The environment's /etc/hosts: loopback names, the sandbox's host name and the mapped endpoint names.</summary>
    public static string HostsFile(IReadOnlyList<EndpointBinding> bindings)
    {
        var text = new StringBuilder("127.0.0.1\tlocalhost rebench\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        foreach (var b in bindings.Where(b => b.HostsName is not null).DistinctBy(b => b.HostsName))
        {
            text.Append(b.Listen).Append('\t').Append(b.HostsName).Append('\n');
        }
        return text.ToString();
    }
}
