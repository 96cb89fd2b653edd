using Google.Protobuf;

namespace ReBench.Agents.Drivers;

/// <summary>Plays a fixed list of actions (setting "script"); used to test the platform and to replay runs.</summary>
public sealed class ScriptedDriver : IAgentDriver
{
    public const string ScriptSetting = "script";

    public string Name => "scripted";
    public string Description => "Plays the JSON Lines actions in setting 'script' ({\"run\"}, {\"write\"}, {\"score\"}, {\"submit\"}); submits at the end if the script does not.";
    public IReadOnlyList<string> RequiredSettings => [ScriptSetting];

    public string? ValidateSettings(IReadOnlyDictionary<string, string> settings)
    {
        try
        {
            AgentScript.Parse(settings[ScriptSetting]);
            return null;
        }
        catch (FormatException e)
        {
            return $"setting '{ScriptSetting}': {e.Message}";
        }
    }

    public async Task RunAsync(AgentRunContext context, CancellationToken ct)
    {
        var session = context.Session;
        var actions = AgentScript.Parse(context.Settings[ScriptSetting]);
        foreach (var action in actions)
        {
            context.Logger.LogDebug("Attempt {Attempt}: script line {Line}", context.AttemptId, action.Line);
            switch (action)
            {
                case RunAction run: await session.RunAsync(run.Command, run.TimeoutSeconds, ct); break;
                case WriteAction write: await session.WriteFileAsync(write.Path, ByteString.CopyFromUtf8(write.Content), ct); break;
                case ScoreAction: await session.ScoreAsync(ct); break;
                case SubmitAction submit: await session.SubmitAsync(submit.Submission, ct); break;
            }
        }
        if (actions is not [.., SubmitAction]) await session.SubmitAsync("", ct);
    }
}
