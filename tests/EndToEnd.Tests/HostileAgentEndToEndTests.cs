namespace ReBench.EndToEnd.Tests;

/// <summary>
/// A hostile agent inside a real attempt (scripted agent on the prefix-sum cpu task, through the gateway, the
/// orchestrator and the isolated sandbox), trying each boundary of the README's attack table in turn while a
/// second attempt (the victim) runs beside it. Each attack's outcome is read back from the recorded action log and
/// from the host. The end-state check of <see cref="PlatformTest"/> then requires that both attempts ended once,
/// verify, and left nothing behind.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class HostileAgentEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private const int RaceWrites = 200;


    /// <summary>A correct prefix sum whose import and every call try the protected area (numpy: the task's own idiom).</summary>
    private const string HostileSolution = """
        import os, shutil
        import numpy as np

        def _probe(when):
            lines = [f"IMPORTED {when} uid={os.getuid()} groups={os.getgroups()}"]
            root = os.environ.get("REBENCH_PROTECTED") or os.path.join(os.environ.get("HOME", "/"), "..", "protected")
            for base, _, files in os.walk(root):
                for name in files:
                    path = os.path.join(base, name)
                    try:
                        with open(path, "rb") as f:
                            f.read(16)
                        lines.append(f"READ {path}")
                        shutil.copy(path, f"/tmp/leak-{name}")
                        os.chmod(f"/tmp/leak-{name}", 0o666)
                    except OSError as e:
                        lines.append(f"DENIED {path}: {e.strerror}")
            try:
                with open(os.path.join(root, "score.log"), "a") as f:
                    f.write('{"score": 1.0, "forged": true}\n')
                lines.append("APPENDED score.log")
            except OSError as e:
                lines.append(f"DENIED append score.log: {e.strerror}")
            try:
                with open("/tmp/judged-report.txt", "a") as f:
                    f.write("\n".join(lines) + "\n")
                os.chmod("/tmp/judged-report.txt", 0o666)
            except OSError:
                pass

        _probe("at import")
        _calls = 0

        def prefix_sum(x: np.ndarray) -> np.ndarray:
            global _calls
            _calls += 1
            if _calls == 1:
                _probe("at run time")
            positive = (x > 0).astype(np.int64)
            before = np.concatenate(([0], np.cumsum(positive)[:-1]))
            return np.cumsum(np.where(before % 2 == 1, x, 0)).astype(x.dtype)
        """;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_boundary_holds_against_an_agent_inside_a_real_attempt()
    {
        var client = Platform.Orchestrator();
        var secret = "victim-secret-" + Guid.NewGuid().ToString("N");
        var victim = await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("victim", TimeSpan.FromMinutes(4),
            new { write = "secret.txt", content = secret },
            new { run = "sleep 100", timeout = 150 },
            new { submit = "" }));
        var victimHome = Path.Combine(Platform.SandboxRoot, Guid.Parse(victim.AttemptIds.Single()).ToString("N"), "home");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!File.Exists(Path.Combine(victimHome, "secret.txt")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the victim never wrote its secret");
            await System.Threading.Tasks.Task.Delay(200);
        }

        // A host directory the race aims at, and a marker for writes attempted outside the home.
        var hostTarget = Directory.CreateTempSubdirectory("rebench-race-target-").FullName;
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(hostTarget, (UnixFileMode)0b111_111_111); // the agent may not even need to write it: the service writes as root
        var pwned = "pwned-" + Guid.NewGuid().ToString("N")[..8];
        var steps = new List<object>
        {
            // 0: another environment's files, by host path and through /proc.
            new { run = $"cat {victimHome}/secret.txt; ls {Platform.SandboxRoot}; cat /proc/*/root{victimHome}/secret.txt; cat /proc/1/root{victimHome}/secret.txt; echo END" },
            // 1: writes outside the home.
            new { run = $"for d in /usr /etc /opt / {Path.GetDirectoryName(victimHome)} {Platform.SandboxRoot} /tmp; do touch $d/{pwned} 2>/dev/null && echo WROTE $d; done; echo END" },
            // 2: the protected data and the official score log.
            new { run = "cat $HOME/../protected/*.py 2>&1 | head -3; echo forged >> $HOME/../protected/score.log; echo rc=$?" },
            // 3: the platform's own ports on the host's loopback: the gateway, PostgreSQL, RabbitMQ.
            new { run = $"for p in {Platform.Port("gateway")} {TestEnv.PostgresPort} {TestEnv.RabbitPort}; do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>&1 && echo CONNECTED $p; done; echo END" },
            // 4: platform processes: PID 1 of the environment, every process it can signal.
            new { run = "kill -9 1; echo rc=$?" },
            // 5: a user namespace to mount in (needs the syscall filter).
            new { run = "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo MOUNTED' 2>&1; unshare -Ur true 2>&1; echo rc=$?" },
            // 6: symlink escapes through the platform's own file writes.
            new { run = $"ln -s {hostTarget} out; ln -s /etc etc-link; echo ok" },
            new { write = "out/pwned.txt", content = "escaped" },
            new { write = "etc-link/pwned.txt", content = "escaped" },
            // 9: the rename race: d (dir) and e (symlink to the host directory) swapped in a loop while files are written into d/.
            new { run = "mkdir -p d; ln -sfn " + hostTarget + " e; nohup python3 -c \"import ctypes,os,time\nlibc=ctypes.CDLL(None,use_errno=True)\nend=time.time()+120\nn=0\nwhile time.time()<end:\n  libc.renameat2(-100,b'd',-100,b'e',2); n+=1\n  if n%100000==0: open('swaps','w').write(str(n))\n\" >/dev/null 2>&1 & sleep 1; echo started" },
        };
        for (var i = 0; i < RaceWrites; i++) steps.Add(new { write = $"d/pwn{i}.txt", content = "race" });
        steps.Add(new { run = "cat swaps; echo" });
        // The judged code: a solution.py that, imported by the scorer, tries to read every protected file and to append
        // to the official score log, and writes what it got where the agent can read it; then the agent looks.
        steps.Add(new { write = "solution.py", content = HostileSolution });
        steps.Add(new { score = true });
        steps.Add(new { run = "cat /tmp/judged-report.txt; ls /tmp; echo END" });
        steps.Add(new { submit = "" });
        var attacker = await client.Campaigns.CreateCampaignAsync(Scripted.Campaign("attacker", TimeSpan.FromMinutes(4), [.. steps]));
        var attempt = (await Waits.CampaignFinishedAsync(client, attacker.CampaignId, TimeSpan.FromMinutes(5))).Single();
        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var all = await Waits.EventsAsync(client, attempt.AttemptId);
        var completed = all.Where(e => e.EventType == "action_completed").ToList();
        output.WriteLine($"{completed.Count} steps completed; the last events:");
        foreach (var e in all.TakeLast(6)) output.WriteLine($"#{e.Version} {e.EventType} {e.DataJson[..Math.Min(400, e.DataJson.Length)]}");
        string Out(int i) => completed[i].Field("Stdout").GetString() + completed[i].Field("Stderr").GetString() + (completed[i].Field("Error").GetString() ?? "");
        for (var i = 0; i < 10; i++) output.WriteLine($"step {i}: {Out(i)[..Math.Min(400, Out(i).Length)]}");

        Assert.DoesNotContain(secret, Out(0));
        Assert.Contains("END", Out(0));
        Assert.Equal(["/tmp"], Out(1).Split('\n').Where(l => l.StartsWith("WROTE ", StringComparison.Ordinal)).Select(l => l[6..]));
        Assert.False(File.Exists(Path.Combine("/tmp", pwned)), "the environment's /tmp is its own");
        Assert.Contains("Permission denied", Out(2));
        Assert.DoesNotContain("def ", Out(2));
        Assert.Contains("rc=1", Out(2));
        Assert.DoesNotContain("CONNECTED", Out(3));
        Assert.Contains("rc=1", Out(4));
        Assert.DoesNotContain("MOUNTED", Out(5));
        Assert.DoesNotContain("rc=0", Out(5));
        Assert.Equal(-1, completed[7].Field("ExitCode").GetInt32());
        Assert.Equal(-1, completed[8].Field("ExitCode").GetInt32());
        Assert.False(File.Exists("/etc/pwned.txt"));
        Assert.Contains("started", Out(9));
        var swaps = Out(10 + RaceWrites).Trim();
        Assert.True(long.TryParse(swaps.Split('\n')[0], out var n) && n >= 100_000, $"control: the swap loop ran ({swaps})");
        var writes = completed.Skip(10).Take(RaceWrites).ToList();
        Assert.Contains(writes, w => w.Field("ExitCode").GetInt32() == -1); // some writes met the symlink and were refused
        Assert.Empty(Directory.EnumerateFileSystemEntries(hostTarget));
        Directory.Delete(hostTarget, recursive: true);

        var judged = Out(12 + RaceWrites); // the score step records no action_completed
        output.WriteLine($"judged code report: {judged}");
        Assert.Contains("IMPORTED", judged); // control: the hostile module did run
        Assert.DoesNotContain("READ ", judged);
        Assert.DoesNotContain("APPENDED", judged);
        Assert.DoesNotContain("leak-", judged);

        var victimAttempt = (await Waits.CampaignFinishedAsync(client, victim.CampaignId, TimeSpan.FromMinutes(5))).Single();
        Assert.Equal(AttemptStatus.Completed, victimAttempt.Status); // the attacker could not disturb it
    }
}
