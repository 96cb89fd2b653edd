using System.CommandLine.Parsing;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

public static class CampaignCommands
{
    public static readonly Option<string[]> Tasks = new("--task") { Description = "task_id[:variant]; repeatable", Required = true, AllowMultipleArgumentsPerToken = true };
    public static readonly Option<string[]> Agents = new("--agent") { Description = "agent name; repeatable (scripted: --script FILE; settings: --set after it)", Required = true, AllowMultipleArgumentsPerToken = true };
    public static readonly Option<string[]> Set = new("--set")
    {
        Description = "KEY=VALUE setting of the --agent before it; repeatable (e.g. provider=local model=m cost_budget_usd=5 token_budget=100000)",
    };
    public static readonly Option<int> K = new("--k") { Description = $"attempts per (task, agent), 1..{Parsing.MaxK}", DefaultValueFactory = _ => 1 };
    public static readonly Option<string> Budget = new("--budget") { Description = "time budget per attempt: 90s, 3m, 2h (at most 7 days)", DefaultValueFactory = _ => "5m" };
    public static readonly Option<string?> CostCap = new("--cost-cap") { Description = "campaign-wide model-call cost cap in USD (no call is granted past it)" };
    public static readonly Option<string?> Name = new("--name") { Description = "campaign name" };
    public static readonly Option<FileInfo?> Script = new("--script") { Description = "JSON Lines script for the scripted agent" };

    /// <summary>Settings whose value must be a number; the agents service reads them as such.</summary>
    private static readonly Dictionary<string, Func<string, bool>> NumericSettings = new()
    {
        ["cost_budget_usd"] = v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0,
        ["token_budget"] = v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0,
    };

    public static Command Build()
    {
        var campaign = new Command("campaign", "create, list and watch campaigns");
        var create = new Command("create", "create a campaign (tasks x agents x k attempts)") { Tasks, Agents, Set, K, Budget, CostCap, Name, Script };
        var watch = new Option<bool>("--watch") { Description = "follow progress until it finishes" };
        create.Options.Add(watch);
        create.SetAction(async (r, ct) =>
        {
            var request = Request(r, r.GetValue(Tasks)!, AgentsInOrder(r));
            using var client = CliApp.Client(r);
            var c = await client.Campaigns.CreateCampaignAsync(request, cancellationToken: ct);
            Console.WriteLine($"campaign {c.CampaignId}: {c.AttemptsTotal} attempts scheduled");
            if (r.GetValue(watch)) await Progress.WatchAsync(client, c.CampaignId, Console.Out, ct);
            return ExitCodes.Ok;
        });

        var limit = Paging.Limit();
        var all = Paging.All();
        var list = new Command("list", "list campaigns, newest first") { limit, all };
        list.SetAction(async (r, ct) =>
        {
            var max = Paging.LimitOf(r, limit, all);
            using var client = CliApp.Client(r);
            var (res, more) = await Paging.CampaignsAsync(client.Campaigns, max, ct);
            Output.Table(Console.Out, ["campaign", "name", "created", "attempts", "finished"], res.Select(c => (IReadOnlyList<string>)
                [c.CampaignId, c.Name, c.CreatedAt.ToDateTimeOffset().ToString("u"), c.AttemptsTotal.ToString(), c.AttemptsFinished.ToString()]));
            Paging.SayIfCut(more, res.Count, "campaigns");
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("campaign-id");
        var watchCmd = new Command("watch", "show progress until the campaign finishes, then its attempts (exit 4 for an unknown campaign)") { id };
        watchCmd.SetAction(async (r, ct) =>
        {
            using var client = CliApp.Client(r);
            await Progress.WatchAsync(client, r.GetValue(id)!, Console.Out, ct);
            return ExitCodes.Ok;
        });

        campaign.Subcommands.Add(create);
        campaign.Subcommands.Add(list);
        campaign.Subcommands.Add(watchCmd);
        return campaign;
    }

    /// <summary>
    /// The --agent values in command-line order, each with the --set settings that follow it (before the next
    /// --agent). System.CommandLine groups values per option, so the order comes from the parsed tokens.
    /// </summary>
    public static List<AgentSpec> AgentsInOrder(ParseResult r)
    {
        var agents = new List<AgentSpec>();
        string? option = null;
        foreach (var token in r.Tokens)
        {
            if (token.Type == TokenType.Option)
            {
                option = token.Value;
                if (option == "--set" && agents.Count == 0) throw CliException.Bad("--set KEY=VALUE applies to the --agent before it: put it after an --agent");
                continue;
            }
            if (token.Type != TokenType.Argument) { option = null; continue; }
            if (option == "--agent")
            {
                foreach (var name in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    agents.Add(new AgentSpec { Name = name });
            }
            else if (option == "--set")
            {
                AddSetting(agents[^1], token.Value);
                option = null; // one value per --set
            }
        }
        return agents;
    }

    public static void AddSetting(AgentSpec agent, string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0) throw CliException.Bad($"--set '{Parsing.Quote(assignment)}': use KEY=VALUE");
        var (key, value) = (assignment[..eq].Trim(), assignment[(eq + 1)..].Trim());
        if (agent.Settings.ContainsKey(key)) throw CliException.Bad($"--set {Parsing.Quote(key)}: given twice for agent {agent.Name}");
        if (NumericSettings.TryGetValue(key, out var valid) && !valid(value))
            throw CliException.Bad($"--set {key}='{Parsing.Quote(value)}': must be a {(key == "token_budget" ? "positive whole number" : "number, 0 or more")}");
        agent.Settings[key] = value;
    }

    public static CreateCampaignRequest Request(ParseResult r, IEnumerable<string> tasks, IEnumerable<AgentSpec> agents)
    {
        var request = new CreateCampaignRequest
        {
            Name = r.GetValue(Name) ?? "", AttemptsPerPair = Parsing.K(r.GetValue(K)), TimeBudget = Parsing.Budget(r.GetValue(Budget)!),
        };
        if (r.GetValue(CostCap) is { } cap)
        {
            if (!double.TryParse(cap, NumberStyles.Float, CultureInfo.InvariantCulture, out var usd) || !double.IsFinite(usd) || usd <= 0)
                throw CliException.Bad($"--cost-cap '{Parsing.Quote(cap)}': a number of USD more than zero");
            request.CostCapUsd = usd;
        }
        request.Tasks.AddRange(tasks.Select(Parsing.Task));
        var script = r.GetValue(Script) is { } file ? Parsing.Script(file) : null;
        foreach (var spec in agents)
        {
            if (spec.Name == "scripted" && script is not null && !spec.Settings.ContainsKey("script")) spec.Settings["script"] = script;
            request.Agents.Add(spec);
        }
        if (script is not null && !request.Agents.Any(a => a.Name == "scripted")) throw CliException.Bad("--script is for the scripted agent: add --agent scripted");
        return request;
    }
}
