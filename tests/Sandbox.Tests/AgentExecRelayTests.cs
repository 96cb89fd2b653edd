namespace ReBench.Sandbox.Tests;

/// <summary>
/// $REBENCH_AGENT_EXEC: a scorer run asks the sandbox to run the code it judges with the agent's rights only, so that
/// code cannot read the protected area the scorer can. Isolation on (the agent user, group protected for scorers).
/// </summary>
public sealed class AgentExecRelayTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>, IDisposable
{
    private readonly string _protected = Directory.CreateTempSubdirectory("rebench-relay-protected-").FullName;

    public void Dispose() => Directory.Delete(_protected, recursive: true);

    private Task<ExecResult> ScorerAsync(string env, string command, string stdin = "") =>
        sandbox.Client.RunAsync(new ExecRequest
        {
            EnvironmentId = env, Command = command, AsScorer = true, TimeoutSeconds = 60,
            Stdin = Google.Protobuf.ByteString.CopyFromUtf8(stdin),
        });

    [Fact]
    public async Task The_scorer_runs_a_command_as_the_agent_who_cannot_read_what_the_scorer_can()
    {
        await File.WriteAllTextAsync(Path.Combine(_protected, "reference_weights.txt"), "secret-weights");
        var env = await sandbox.NewEnvironmentAsync(protectedFilesDir: _protected);

        var direct = await ScorerAsync(env, "id -Gn; cat \"$REBENCH_PROTECTED/reference_weights.txt\"");
        Assert.Contains("protected", direct.Stdout);
        Assert.Contains("secret-weights", direct.Stdout);

        // The same through the relay: the agent's groups, the file refused; stdout, stderr and the exit code come back.
        var secret = Path.Combine(sandbox.Root, env, "protected", "reference_weights.txt");
        var relayed = await ScorerAsync(env, $"\"$REBENCH_AGENT_EXEC\" 'id -un; id -Gn; echo to-stderr >&2; cat {secret} || exit 7'; echo \"exit=$?\"");
        var lines = relayed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("rebench-agent", lines[0]);
        Assert.Equal("rebench-agent", lines[1]);
        Assert.Equal("exit=7", lines[^1]);
        Assert.DoesNotContain("secret-weights", relayed.Stdout);
        Assert.Contains("to-stderr", relayed.Stderr);
        Assert.Contains("Permission denied", relayed.Stderr);

        // The judged code keeps the scorer's CPU priority (its time may be the score), not its rights.
        var cgroup = await ScorerAsync(env, "\"$REBENCH_AGENT_EXEC\" 'cat /proc/self/cgroup'");
        Assert.Contains($"/rebench-scoring/{env}", cgroup.Stdout);

        // Working directory (relative to the home), environment variables and stdin travel with the request.
        await sandbox.Client.RunAsync(env, "mkdir -p solution");
        var options = await ScorerAsync(env, "\"$REBENCH_AGENT_EXEC\" --cwd solution --env TRAIN_DATA=/tmp/d.jsonl --stdin 'pwd; echo \"$TRAIN_DATA\"; cat'", stdin: "from-the-scorer");
        Assert.Equal([Path.Combine(sandbox.Root, env, "home", "solution"), "/tmp/d.jsonl", "from-the-scorer"], options.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// Scorer runs are another user than the agent (same primary group, plus protected): the agent's processes cannot
    /// ptrace them or read their memory or environment, which the kernel allows between processes of one user.
    /// </summary>
    [Fact]
    public async Task The_agent_cannot_look_inside_a_running_scorer()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var who = await ScorerAsync(env, "id -un; id -gn; id -Gn");
        Assert.Equal(["rebench-scorer", "rebench-agent"], who.Stdout.Split('\n').Take(2));
        Assert.Contains("protected", who.Stdout.Split('\n')[2]);

        var marker = "rebench-scorer-busy-" + Guid.NewGuid().ToString("N");
        var scorer = ScorerAsync(env, $"(exec -a {marker} sleep 15)");
        // The scorer's process is the one whose argv[0] is the marker (the agent's own shell mentions it too).
        // Opening /proc/<pid>/mem is the ptrace-attach check itself; reading offset 0 would fail for anyone.
        var probe = await sandbox.Client.RunAsync(env,
            $"find() {{ for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^{marker} ' && echo ${{p#/proc/}}; done; }}; " +
            "for i in $(seq 100); do pid=$(find | head -1); [ -n \"$pid\" ] && break; sleep 0.1; done; echo \"pid=$pid\"; " +
            "cat /proc/$pid/environ >/dev/null 2>&1 && echo environ-readable || echo environ-denied; " +
            "python3 -c \"open('/proc/$pid/mem', 'rb')\" 2>/dev/null && echo mem-openable || echo mem-denied; " +
            "sleep 30 & own=$!; cat /proc/$own/environ >/dev/null 2>&1 && echo own-environ-readable; " +
            "python3 -c \"open('/proc/$own/mem', 'rb')\" && echo own-mem-openable; kill $own", timeoutSeconds: 60);
        Assert.Matches("pid=[0-9]+\n", probe.Stdout);
        Assert.Contains("environ-denied", probe.Stdout);
        Assert.Contains("mem-denied", probe.Stdout);
        // The controls: the agent's own process, same user, is open to it.
        Assert.Contains("own-environ-readable", probe.Stdout);
        Assert.Contains("own-mem-openable", probe.Stdout);
        await scorer;
    }

    [Fact]
    public async Task The_agent_cannot_reach_the_relay_and_is_not_told_where_it_is()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var dir = Path.Combine(sandbox.Root, env, "relay");
        var agent = await sandbox.Client.RunAsync(env, $"echo \"[$REBENCH_AGENT_EXEC]\"; ls {dir} 2>&1; python3 -c \"import os, socket; d = os.open('{dir}', os.O_PATH); socket.socket(socket.AF_UNIX).connect(f'/proc/self/fd/{{d}}/agent-exec.sock')\" 2>&1 | tail -1");
        Assert.StartsWith("[]", agent.Stdout);
        Assert.Contains("Permission denied", agent.Stdout);
        Assert.Contains("PermissionError", agent.Stdout);
        var scorer = await ScorerAsync(env, "echo \"$REBENCH_AGENT_EXEC\"");
        Assert.Equal(Path.Combine(dir, "agent-exec"), scorer.Stdout.Trim());
    }

    /// <summary>
    /// The relay takes its variables from the scorer, whose judged code may choose them: none of them reaches the
    /// commands the service runs as root before dropping to the agent (setsid, nsenter, setpriv are not looked up on
    /// the request's PATH). The agent writes look-alikes into its home, which is a host path too.
    /// </summary>
    [Fact]
    public async Task A_requests_PATH_does_not_choose_the_programs_run_as_root()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var home = Path.Combine(sandbox.Root, env, "home");
        var marker = Path.Combine(home, "ran-as-root");
        await sandbox.Client.RunAsync(env, "mkdir -p evil && for t in setsid nsenter setpriv env sh bash; do " +
            $"printf '#!/bin/sh\nid -u > {marker}\nexit 0\n' > evil/$t; chmod +x evil/$t; done");
        var r = await ScorerAsync(env, $"\"$REBENCH_AGENT_EXEC\" --env PATH={home}/evil:/usr/bin:/bin --env LD_PRELOAD={home}/evil/none.so 'echo ran; id -un'");
        Assert.Equal(["ran", "rebench-agent"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(marker), "a program from the request's PATH ran");
    }

    [Fact]
    public async Task A_restarted_service_serves_the_relay_of_the_environments_it_finds()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var restarted = sandbox.StartService();
        var r = await restarted.RunAsync(new ExecRequest { EnvironmentId = env, Command = "\"$REBENCH_AGENT_EXEC\" 'id -un'", AsScorer = true, TimeoutSeconds = 60 });
        Assert.Equal("rebench-agent", r.Stdout.Trim());
    }

    [Fact]
    public async Task Timeouts_bad_requests_and_a_scorer_that_goes_away_end_the_relayed_command()
    {
        var env = await sandbox.NewEnvironmentAsync();
        var timedOut = await ScorerAsync(env, "\"$REBENCH_AGENT_EXEC\" --timeout 1 'sleep 30'; echo \"exit=$?\"");
        Assert.Equal("exit=124", timedOut.Stdout.Trim());
        Assert.True(timedOut.Events[^1].At < TimeSpan.FromSeconds(20), $"took {timedOut.Events[^1].At}");

        var refused = await ScorerAsync(env, "\"$REBENCH_AGENT_EXEC\" --cwd ../protected 'true'; echo \"exit=$?\"");
        Assert.Equal("exit=125", refused.Stdout.Trim());
        Assert.Contains("refused", refused.Stderr);
        var reserved = await ScorerAsync(env, "\"$REBENCH_AGENT_EXEC\" --env REBENCH_PROTECTED=/x 'true'; echo \"exit=$?\"");
        Assert.Contains("set by the sandbox", reserved.Stderr);

        // What the judged command leaves running in the background ends with it.
        var background = "rebench-relay-background-" + Guid.NewGuid().ToString("N");
        var left = await ScorerAsync(env, $"\"$REBENCH_AGENT_EXEC\" '(exec -a {background} sleep 1000) & echo started'");
        Assert.Equal("started", left.Stdout.Trim());
        Assert.True(await Processes.GoneWithinAsync(background, TimeSpan.FromSeconds(10)), "a background job of the relayed command outlived it");

        // The scorer's client is killed (its own timeout, say): the command it started goes too.
        var marker = "rebench-relay-orphan-" + Guid.NewGuid().ToString("N");
        var killed = await ScorerAsync(env, $"\"$REBENCH_AGENT_EXEC\" '(exec -a {marker} sleep 1000)' & pid=$!; " +
            $"for i in $(seq 100); do pgrep -f {marker} >/dev/null && break; sleep 0.1; done; pgrep -f {marker} >/dev/null && echo running; " +
            "kill -9 $pid; wait $pid; true");
        Assert.Equal("running", killed.Stdout.Trim()); // it did run before its client was killed
        Assert.True(await Processes.GoneWithinAsync(marker, TimeSpan.FromSeconds(10)), "the relayed command outlived its scorer");

        // A daemon the judged code detaches (setsid) escapes the kill at its exit, but not the end of the scorer run:
        // nothing keeps the scoring groups' priority and limits once no scorer runs.
        var daemon = "rebench-relay-daemon-" + Guid.NewGuid().ToString("N");
        var detached = await ScorerAsync(env, $"\"$REBENCH_AGENT_EXEC\" 'setsid bash -c \"exec -a {daemon} sleep 1000\" >/dev/null 2>&1 < /dev/null & sleep 1; pgrep -f {daemon} >/dev/null && echo detached'; " +
            $"pgrep -f {daemon} >/dev/null && echo still-there");
        Assert.Equal(["detached", "still-there"], detached.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(await Processes.GoneWithinAsync(daemon, TimeSpan.FromSeconds(10)), "a detached process kept running after the scorer run");
    }
}
