namespace ReBench.Sandbox.Tests;

public sealed partial class AttackTests
{
    /// <summary>
    /// A scorer's variables (a judge's API key) must not show on any command line: the agent shares the scorer's PID
    /// namespace and /proc/PID/cmdline is readable by all. The agent polls every command line while scorer runs
    /// start; the control is that it does see their commands, so the poll was watching at the right time.
    /// </summary>
    [Fact]
    public async Task An_agent_polling_command_lines_never_sees_a_scorers_variables()
    {
        var env = await _sandbox.NewEnvironmentAsync();
        const string secret = "judge-key-0d9f3 'quoted' $HOME\nsecond line";
        // A tight loop in one process (no fork per read), so even a command line that lives a millisecond is seen.
        var watcher = _client.RunAsync(env, """
            python3 -c '
            import os, re, time
            seen, end = set(), time.time() + 6
            while time.time() < end:
                for pid in os.listdir("/proc"):
                    if not pid.isdigit(): continue
                    try: text = open("/proc/" + pid + "/cmdline", "rb").read().decode("utf-8", "replace")
                    except OSError: continue
                    seen.update(re.findall("judge-key-[0-9a-f]+|scorer-run-[a-z]+", text))
            print(" ".join(sorted(seen)))'
            """);
        await Task.Delay(500);
        var runs = new List<ExecResult>();
        for (var i = 0; i < 12; i++)
        {
            runs.Add(await _client.RunAsync(new ExecRequest
            {
                EnvironmentId = env,
                AsScorer = true,
                Command = "sleep 0.2; : scorer-run-visible; printf '%s|%s' \"$SECRET\" \"${__REBENCH_EXEC_ENV-unset}\"",
                Env = { ["SECRET"] = secret },
            }));
        }
        var seen = (await watcher).Stdout;

        Assert.All(runs, r => Assert.Equal($"{secret}|unset", r.Stdout)); // the variable arrives whole; the carrier is gone
        Assert.Contains("scorer-run-visible", seen);
        Assert.DoesNotContain("judge-key", seen);
    }

    [Fact]
    public async Task A_variable_name_a_shell_cannot_export_is_refused()
    {
        var env = await _sandbox.NewEnvironmentAsync();
        foreach (var name in new[] { "A.B", "1X", "X Y", "__REBENCH_EXEC_ENV" })
        {
            var e = await SandboxClientExtensions.FailsAsync(
                () => _client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "true", Env = { [name] = "v" } }),
                StatusCode.InvalidArgument);
            Assert.Contains("env variable", e.Status.Detail);
        }
    }
}
