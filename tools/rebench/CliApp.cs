using System.CommandLine;
using ReBench.Cli.Commands;

namespace ReBench.Cli;

/// <summary>The `rebench` command tree. Every command talks to the platform through the gateway.</summary>
public static class CliApp
{
    public static readonly Option<string> Gateway = new("--gateway")
    {
        Description = "Gateway address (env REBENCH_GATEWAY)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("REBENCH_GATEWAY") ?? "http://127.0.0.1:5100",
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "API key (env REBENCH_API_KEY)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("REBENCH_API_KEY"),
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("rebench: run and inspect RE-Bench campaigns on the platform") { Gateway, ApiKey };
        root.Subcommands.Add(CampaignCommands.Build());
        root.Subcommands.Add(AttemptCommands.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(ReportCommands.Build()); root.Subcommands.Add(ReportCommands.Import());
        root.Subcommands.Add(AuditCommands.Verify());
        root.Subcommands.Add(AuditCommands.Export());
        root.Subcommands.Add(ReexecuteCommand.Build());
        root.Subcommands.Add(ReplayCommand.Build()); root.Subcommands.Add(ProvenanceCommand.Build()); root.Subcommands.Add(AccessCommands.Build());
        root.Subcommands.Add(HumanCommands.Build());
        return root;
    }

    public static PlatformClient Client(ParseResult r) => new(r.GetValue(Gateway)!, r.GetValue(ApiKey));
}
