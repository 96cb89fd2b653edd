namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The sandbox's system-call filter through a real attempt: a scripted agent on the platform's processes (the sandbox
/// in its default isolation, which is namespaces on this machine) tries to create a user namespace and mount in it.
/// Without the filter this prints MOUNTED (issue 14); the action log must show the refusal, and the next command runs.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class SeccompEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    [Fact]
    public async Task An_agent_cannot_create_a_user_namespace_and_mount_in_it_and_the_action_log_shows_the_refusal()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("seccomp-e2e", TimeSpan.FromMinutes(3),
            new { run = "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo MOUNTED'; echo \"exit=$?\"" },
            new { run = "grep Seccomp: /proc/self/status; echo control-ok" },
            new { submit = "" }));
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);

        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        var completed = events.Where(e => e.EventType == "action_completed").ToList();
        foreach (var e in completed) output.WriteLine(e.DataJson);
        Assert.Equal(2, completed.Count);
        var attack = completed[0];
        Assert.DoesNotContain("MOUNTED", attack.Field("Stdout").GetString());
        Assert.Equal("exit=1\n", attack.Field("Stdout").GetString());
        Assert.Contains("unshare failed: Operation not permitted", attack.Field("Stderr").GetString());
        // The control: the environment still runs commands, under the filter.
        Assert.Equal("Seccomp:\t2\ncontrol-ok\n", completed[1].Field("Stdout").GetString());
    }
}
