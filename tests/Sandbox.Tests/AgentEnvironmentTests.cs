using Grpc.Core;
using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Tests;

/// <summary>
/// SetAgentEnvironment (tasks/README.md, "The agent's environment"): the variables every later agent command of the
/// environment gets, never a scorer run, kept across a service restart, and the optional 0600 home file of the agent.
/// </summary>
public sealed class AgentEnvironmentTests(IsolatedSandboxFixture sandbox) : IClassFixture<IsolatedSandboxFixture>
{
    [Fact]
    public async Task Agent_commands_get_the_variables_and_the_file_scorer_runs_do_not_and_a_restart_keeps_them()
    {
        var env = await sandbox.NewEnvironmentAsync();
        const string value = "k-7 'quoted' $HOME";
        var before = await sandbox.Client.RunAsync(env, "echo before=${JUDGE_KEY-unset}");
        Assert.Equal("before=unset\n", before.Stdout); // control: nothing until the call

        await sandbox.Client.SetAgentEnvironmentAsync(new SetAgentEnvironmentRequest
        {
            EnvironmentId = env, File = "api.env", Env = { ["JUDGE_KEY"] = value, ["JUDGE_URL"] = "http://127.0.0.1:1/v1" },
        });

        var agent = await sandbox.Client.RunAsync(env, "printf '%s|%s' \"$JUDGE_KEY\" \"$JUDGE_URL\"");
        Assert.Equal($"{value}|http://127.0.0.1:1/v1", agent.Stdout);
        var file = await sandbox.Client.RunAsync(env, "stat -c '%a %U' api.env; id -un; cat api.env");
        var lines = file.Stdout.Split('\n');
        Assert.Equal($"600 {lines[1]}", lines[0]);
        Assert.Equal($"JUDGE_KEY={value}\nJUDGE_URL=http://127.0.0.1:1/v1\n", string.Join('\n', lines[2..]));
        // The request's own variables win over the environment's.
        var overridden = await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, Command = "printf %s \"$JUDGE_URL\"", Env = { ["JUDGE_URL"] = "mine" } });
        Assert.Equal("mine", overridden.Stdout);
        // A scorer run gets only what its caller passes (the scoring service passes the scorer's own).
        var scorer = await sandbox.Client.RunAsync(new ExecRequest { EnvironmentId = env, AsScorer = true, Command = "echo scorer=${JUDGE_KEY-unset}" });
        Assert.Equal("scorer=unset\n", scorer.Stdout);
        // The kept copy beside the home is not the agent's to read.
        var kept = await sandbox.Client.RunAsync(env, $"cat '{Path.Combine(sandbox.Root, env, "agent-env.json")}' ../agent-env.json 2>&1; echo rc=$?");
        Assert.DoesNotContain("k-7", kept.Stdout);

        var restarted = sandbox.StartService();
        Assert.Equal("k-7 'quoted' $HOME", (await restarted.RunAsync(env, "printf %s \"$JUDGE_KEY\"")).Stdout);
    }

    [Theory]
    [InlineData("HOME", "v", "", StatusCode.InvalidArgument, "set by the sandbox")]
    [InlineData("A.B", "v", "", StatusCode.InvalidArgument, "not a valid name")]
    [InlineData("KEY", "line\nbreak", "api.env", StatusCode.InvalidArgument, "line break")]
    [InlineData("KEY", "v", "../api.env", StatusCode.InvalidArgument, "plain file name")]
    public async Task Bad_input_is_refused_with_a_clear_status_and_never_echoes_a_value(string name, string value, string file, StatusCode code, string expected)
    {
        var env = await sandbox.NewEnvironmentAsync();
        var e = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.SetAgentEnvironmentAsync(new SetAgentEnvironmentRequest
        {
            EnvironmentId = env, File = file, Env = { [name] = value },
        }).ResponseAsync, code);
        Assert.Contains(expected, e.Status.Detail);
        Assert.DoesNotContain("break", e.Status.Detail.Replace("line break", ""));
        Assert.Equal("unset\n", (await sandbox.Client.RunAsync(env, $"echo ${{{(name == "A.B" ? "AB" : name == "HOME" ? "NOPE" : name)}-unset}}")).Stdout);
    }

    [Fact]
    public async Task An_unknown_environment_is_not_found()
    {
        var e = await SandboxClientExtensions.FailsAsync(() => sandbox.Client.SetAgentEnvironmentAsync(new SetAgentEnvironmentRequest
        {
            EnvironmentId = "no-such-environment", Env = { ["KEY"] = "v" },
        }).ResponseAsync, StatusCode.NotFound);
        Assert.Contains("does not exist", e.Status.Detail);
    }
}
