namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Base of every end-to-end test on the shared platform: when a test ends, every attempt it created must have ended
/// exactly once with a verifying chain and seal, and nothing of their environments may be left on the host
/// (directories, processes, cgroups, loop devices, mounts; the sandbox's list and GetCapacity agree). A test that
/// leaves attempts running has them cancelled first, which is itself an end that must destroy. Deriving from this
/// class is checked (<see cref="EndStateTests"/>), so a new end-to-end test gets the check for free.
/// </summary>
public abstract class PlatformTest(PlatformProcesses platform) : IAsyncLifetime
{
    private HashSet<string> _before = [];

    protected PlatformProcesses Platform => platform;

    /// <summary>
    /// The campaign's attempts once all have ended (within 4 minutes); on a timeout the tails of the named services'
    /// logs go to the test's output first, the evidence of where it hung.
    /// </summary>
    protected async Task<IReadOnlyList<Attempt>> CampaignFinishedAsync(string campaignId, ITestOutputHelper output, string[] services, int logLines = 40)
    {
        try
        {
            return await Waits.CampaignFinishedAsync(platform.Orchestrator(), campaignId, TimeSpan.FromMinutes(4));
        }
        catch (TimeoutException)
        {
            foreach (var s in services) output.WriteLine($"--- {s} ---\n{platform.LogTail(s, logLines)}");
            throw;
        }
    }

    public virtual async Task InitializeAsync() => _before = (await EndState.AllAttemptsAsync(platform)).Select(a => a.AttemptId).ToHashSet();

    public virtual async Task DisposeAsync()
    {
        var mine = (await EndState.AllAttemptsAsync(platform)).Where(a => !_before.Contains(a.AttemptId)).Select(a => a.AttemptId).ToList();
        await EndState.AssertCleanAsync(platform, mine);
    }
}

internal static class EndState
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>Every attempt on the platform, following the list's pages.</summary>
    public static async Task<IReadOnlyList<Attempt>> AllAttemptsAsync(PlatformProcesses platform)
    {
        var client = platform.Orchestrator();
        var all = new List<Attempt>();
        var request = new ListAttemptsRequest { PageSize = 1000 };
        do
        {
            var page = await client.Attempts.ListAttemptsAsync(request);
            all.AddRange(page.Attempts);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "");
        return all;
    }

    /// <summary>Every campaign's id, following the list's pages.</summary>
    public static async Task<HashSet<string>> AllCampaignIdsAsync(PlatformProcesses platform)
    {
        var client = platform.Orchestrator();
        var all = new HashSet<string>();
        var request = new ListCampaignsRequest { PageSize = 1000 };
        do
        {
            var page = await client.Campaigns.ListCampaignsAsync(request);
            all.UnionWith(page.Campaigns.Select(c => c.CampaignId));
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "");
        return all;
    }

    public static async Task AssertCleanAsync(PlatformProcesses platform, IReadOnlyList<string> attemptIds)
    {
        var client = platform.Orchestrator();
        // Attempts still running when the test ended are cancelled: cancelling is an end like any other.
        foreach (var id in attemptIds)
        {
            var a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id });
            if (a.Status is AttemptStatus.Scheduled or AttemptStatus.Running)
            {
                try { await client.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = id, Reason = "the end-to-end test ended" }); }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition) { } // ended meanwhile
            }
        }
        var deadline = DateTime.UtcNow + Patience;
        foreach (var id in attemptIds)
        {
            Attempt a;
            while ((a = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id })).Status is AttemptStatus.Scheduled or AttemptStatus.Running)
            {
                Assert.True(DateTime.UtcNow < deadline, $"attempt {id} did not end within {Patience.TotalSeconds} s after the test");
                await Task.Delay(200);
            }
            var verify = await client.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = id });
            Assert.True(verify.Ok && verify.Sealed, $"attempt {id} ({a.Status}): chain ok={verify.Ok} sealed={verify.Sealed} {verify.Problem}");
            var ends = await CountEndsAsync(client, id);
            Assert.True(ends == 1, $"attempt {id} ended {ends} times");
        }
        // Environments are destroyed by the end itself; the reconciler catches what that missed. Either way, within
        // the patience nothing of them may be left.
        string? leak;
        while ((leak = await LeakAsync(platform, attemptIds)) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"left behind after the test: {leak}");
            await Task.Delay(250);
        }
    }

    private static async Task<int> CountEndsAsync(OrchestratorClients client, string attemptId)
    {
        using var call = client.Attempts.ReadAttemptEvents(new ReadAttemptEventsRequest { AttemptId = attemptId });
        var ends = 0;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventType is "attempt_completed" or "attempt_failed" or "attempt_cancelled") ends++;
        }
        return ends;
    }

    /// <summary>The first thing of the attempts' environments still on the host, or null.</summary>
    public static async Task<string?> LeakAsync(PlatformProcesses platform, IReadOnlyList<string> attemptIds)
    {
        var envIds = attemptIds.Select(id => Guid.Parse(id).ToString("N")).ToHashSet();
        var root = platform.SandboxRoot;
        if (Directory.Exists(root))
        {
            var dirs = Directory.EnumerateDirectories(root).Select(Path.GetFileName).Where(n => n is not null && envIds.Contains(n)).ToList();
            if (dirs.Count > 0) return $"environment directories {string.Join(", ", dirs)}";
        }
        using var channel = platform.BackendChannel("sandbox");
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(channel);
        var listed = (await sandbox.ListEnvironmentsAsync(new Sandbox.V1.ListEnvironmentsRequest())).Environments.Select(e => e.EnvironmentId).ToList();
        if (listed.FirstOrDefault(envIds.Contains) is { } env) return $"environment {env} still listed by the sandbox";
        var capacity = await sandbox.GetCapacityAsync(new Sandbox.V1.GetCapacityRequest());
        if (capacity.EnvironmentsRunning != listed.Count)
        {
            return $"GetCapacity counts {capacity.EnvironmentsRunning} environments running, the sandbox lists {listed.Count}";
        }
        return HostLeaks.Find(root, envIds);
    }
}
