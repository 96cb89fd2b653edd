using ReBench.Agents.V1;

namespace ReBench.Cli.Commands;

/// <summary>`rebench agents list`: the agents a campaign may name, with what each needs set.</summary>
internal static class AgentCommands
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "one JSON object per agent, every field" };
        var list = new Command("list", "the agents a campaign may name (--agent), their description and required --set settings") { json };
        list.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            var res = await client.Agents.ListAgentsAsync(new ListAgentsRequest(), cancellationToken: ct);
            var agents = res.Agents.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
            if (r.GetValue(json)) foreach (var a in agents) Console.WriteLine(ProtoJson.Format(a));
            else Output.Table(Console.Out, ["agent", "required settings", "description"], agents.Select(a =>
                (IReadOnlyList<string>)[a.Name, a.RequiredSettings.Count == 0 ? "-" : string.Join(", ", a.RequiredSettings), a.Description]));
            return ExitCodes.Ok;
        });
        var agentsCommand = new Command("agents", "the agent drivers of the agents service");
        agentsCommand.Subcommands.Add(list);
        return agentsCommand;
    }
}
