namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Attack on the prefix-sum scorer's rendezvous (found by the issue-14 attack session): the scorer creates
/// /tmp/rebench-judged-*/rendezvous.sock in the environment's /tmp, group the agent's, mode 0660 in a 0750 directory,
/// and accepted the first connection. A daemon the agent started in an earlier step polls /tmp and connects before the
/// worker that $REBENCH_AGENT_EXEC starts, to answer every call itself while the submitted solution.py (here wrong:
/// zeros) is never imported. Now the scorer challenges every connection with a per-run secret that only the worker got
/// (on its stdin, through the relay): the daemon cannot answer, its connection is counted (foreign_connections) and
/// fails the run as an impersonation attempt. Controls: with the daemon killed, the same solution.py is scored by the
/// real worker (the proven peer is recorded, no foreign connection) and is wrong; a correct solution.py scored through
/// the same relay is valid, so the handshake does not fail every run.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class RendezvousImpersonationEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const string WrongSolution = """
        import numpy as np
        def prefix_sum(x):
            return np.zeros(x.shape, dtype=np.int32)
        """;

    private const string RightSolution = """
        import numpy as np
        def prefix_sum(x):
            p = (x > 0).view(np.int8); q = np.bitwise_xor.accumulate(p); q ^= p
            return np.cumsum(np.where(q.view(np.bool_), x, 0), dtype=np.int32)
        """;

    private const string Hijacker = """
        import glob, mmap, os, socket, time
        import numpy as np
        N = 1_000_000
        open(os.path.expanduser("~/hijack.pid"), "w").write(str(os.getpid()))
        log = open(os.path.expanduser("~/hijack.log"), "a", buffering=1)
        seen = set()
        while True:
            for d in glob.glob("/tmp/rebench-judged-*"):
                s = os.path.join(d, "rendezvous.sock")
                if d in seen or not os.path.exists(s):
                    continue
                seen.add(d)
                try:
                    c = socket.socket(socket.AF_UNIX); c.connect(s); c.settimeout(30)
                    _, fds, _, _ = socket.recv_fds(c, 1, 1)
                    shared = mmap.mmap(fds[0], 8 * N)
                    given = np.frombuffer(shared, dtype=np.int32, count=N, offset=0)
                    answer = np.frombuffer(shared, dtype=np.int32, count=N, offset=4 * N)
                    c.sendall(b"L"); calls = 0
                    while c.recv(1) == b"G":
                        x = given.copy(); p = (x > 0).view(np.int8); q = np.bitwise_xor.accumulate(p); q ^= p
                        np.copyto(answer, np.cumsum(np.where(q.view(np.bool_), x, 0), dtype=np.int32))
                        c.sendall(b"D"); calls += 1
                    log.write(f"served {calls} calls as the worker\n")
                except Exception as e:
                    log.write(f"hijack failed: {type(e).__name__}: {e}\n")
            time.sleep(0.0005)
        """;

    [Fact]
    public async Task A_daemon_connecting_to_the_rendezvous_cannot_answer_for_the_worker_and_fails_the_run_as_impersonation()
    {
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("rendezvous-hijack-e2e", TimeSpan.FromMinutes(3),
            new { write = "solution.py", content = WrongSolution },
            new { write = "hijack.py", content = Hijacker },
            new { run = "(setsid nohup python3 hijack.py >/dev/null 2>&1 &); sleep 2; cat hijack.pid", timeout = 20 },
            new { score = true },
            new { run = "cat hijack.log; kill $(cat hijack.pid); echo killed", timeout = 20 },
            new { score = true }, // control: the same solution.py without the daemon, answered by the real worker
            new { write = "solution.py", content = RightSolution },
            new { score = true }, // control: a correct solution.py scores through the relay and the handshake
            new { submit = "" }));
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        foreach (var e in events.Where(e => e.EventType is "action_completed" or "intermediate_score_recorded")) output.WriteLine(e.DataJson);

        var scores = events.Where(e => e.EventType == "intermediate_score_recorded").ToList();
        Assert.True(scores.Count >= 3, $"expected the three agent scores, got {scores.Count}");
        var daemonLog = events.Where(e => e.EventType == "action_completed").Select(e => e.DataJson).FirstOrDefault(d => d.Contains("killed")) ?? "";
        Assert.DoesNotContain("served", daemonLog); // the daemon never answered a call as the worker

        // The attack: the daemon's connection did not prove the secret; the run is invalid and says why.
        Assert.False(scores[0].Field("Valid").GetBoolean(), "a wrong solution.py scored valid while a daemon connected to the rendezvous");
        Assert.Contains("did not prove the worker's secret", Message(scores[0]));
        Assert.True(Details(scores[0]).GetProperty("foreign_connections").GetInt32() >= 1, "the daemon's connection was not counted");

        // Control 1: without the daemon the real worker (the proven peer, running as the agent) answers, and the
        // submitted zeros are what is judged: wrong, with no foreign connection.
        Assert.False(scores[1].Field("Valid").GetBoolean(), "control: the wrong solution.py scored valid without the daemon");
        Assert.Contains("wrong values", Message(scores[1]));
        var control = Details(scores[1]);
        Assert.Equal(0, control.GetProperty("foreign_connections").GetInt32());
        Assert.NotEqual(0, control.GetProperty("worker_peer").GetProperty("uid").GetInt32()); // the agent's user, not root

        // Control 2: a correct solution.py scores valid through the same relay and handshake.
        Assert.True(scores[2].Field("Valid").GetBoolean(), $"control: the correct solution.py did not score valid: {Message(scores[2])}");
        Assert.Equal(0, Details(scores[2]).GetProperty("foreign_connections").GetInt32());
    }

    private static string Message(AttemptEvent score) =>
        JsonDocument.Parse(score.Field("MessageJson").GetString() ?? "{}").RootElement.TryGetProperty("error", out var error) ? error.GetString() ?? "" : "";

    private static JsonElement Details(AttemptEvent score) => JsonDocument.Parse(score.Field("DetailsJson").GetString() ?? "{}").RootElement;
}
