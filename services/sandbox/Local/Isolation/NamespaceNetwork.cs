namespace ReBench.Sandbox.Local.Isolation;

/// <summary>
/// The environment's network, in its own namespace always: nothing but <c>lo</c> without the task's network permission;
/// with it, exactly the allowed endpoints through <see cref="EndpointProxy"/> (an LLM API, say) or, when no endpoint is
/// listed, everything except the host's loopback through <see cref="UserModeNetwork"/>.
/// </summary>
internal sealed partial class NamespaceIsolation
{
    private const string HostsFile = "net-hosts";
    private const string ResolvFile = "net-resolv.conf";

    /// <summary>/etc/hosts (endpoint names mapped to their loopback addresses) and, with open egress, a resolv.conf for slirp's DNS.</summary>
    private static IEnumerable<string> NetworkFileArgs(LocalEnvironment environment, bool openEgress)
    {
        var state = ((NamespaceHandle)environment.Isolation!).State;
        var hosts = Path.Combine(environment.Directory, HostsFile);
        File.WriteAllText(hosts, EndpointPlan.HostsFile(EndpointPlan.Bind(state.AllowedEndpoints.Select(AllowedEndpoint.Parse).ToList())));
        var args = new List<string> { "--ro-bind", hosts, "/etc/hosts" };
        if (openEgress)
        {
            var resolv = Path.Combine(environment.Directory, ResolvFile);
            File.WriteAllText(resolv, UserModeNetwork.ResolvConf);
            args.AddRange(["--ro-bind", resolv, "/etc/resolv.conf"]);
        }
        return args;
    }

    /// <summary>Called once the holder runs: its namespace exists and can be given its endpoints and network.</summary>
    private void StartNetwork(LocalEnvironment environment, NamespaceHandle handle)
    {
        StopNetwork(handle);
        var state = handle.State;
        if (state.OpenEgress)
        {
            handle.Slirp = UserModeNetwork.Start(environment.Directory, state.HolderPid, Cgroups.ProcsFiles(state.Cgroups).ToList(), JoinCgroupsAndExec);
            handle.State = state with { SlirpPid = handle.Slirp.Id };
        }
        if (state.AllowedEndpoints.Count > 0)
        {
            var bindings = EndpointPlan.Bind(state.AllowedEndpoints.Select(AllowedEndpoint.Parse).ToList());
            handle.Proxy = EndpointProxy.Start(environment.Id, state.HolderPid, bindings, logger);
        }
    }

    private static void StopNetwork(NamespaceHandle handle)
    {
        handle.Proxy?.Dispose();
        handle.Proxy = null;
        if (handle.Slirp is { } slirp)
        {
            try { if (!slirp.HasExited) slirp.Kill(); } catch (InvalidOperationException) { }
            slirp.WaitForExit(5000);
            slirp.Dispose();
            handle.Slirp = null;
        }
        else
        {
            UserModeNetwork.Stop(handle.State.SlirpPid); // started by an earlier run of the service
        }
    }
}
