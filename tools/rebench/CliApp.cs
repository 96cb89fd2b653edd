using System.CommandLine.Invocation;
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

    // No DefaultValueFactory on either key option: help prints a default's value, and these are secrets (or name
    // one). Client() reads the variables. A key on the command line is visible to every user in process listings
    // (ps, /proc/*/cmdline): the file and the variables are the ways that are not.
    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "API key (default: env REBENCH_API_KEY; prefer it or --api-key-file: a command line shows in ps)",
        Recursive = true,
    };

    public static readonly Option<FileInfo?> ApiKeyFile = new("--api-key-file")
    {
        Description = "file holding the API key (default: env REBENCH_API_KEY_FILE)",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("rebench: run and inspect RE-Bench campaigns on the platform.\n" + ExitCodes.Help) { Gateway, ApiKey, ApiKeyFile };
        root.Subcommands.Add(CampaignCommands.Build());
        root.Subcommands.Add(AttemptCommands.Build());
        root.Subcommands.Add(TaskCommands.Build());
        root.Subcommands.Add(AgentCommands.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(ReportCommands.Build()); root.Subcommands.Add(ReportCommands.Import());
        root.Subcommands.Add(AuditCommands.Verify());
        root.Subcommands.Add(AuditCommands.Export());
        root.Subcommands.Add(BlobCommands.Build());
        root.Subcommands.Add(BlobCommands.Key());
        root.Subcommands.Add(ReexecuteCommand.Build());
        root.Subcommands.Add(ReplayCommand.Build()); root.Subcommands.Add(ProvenanceCommand.Build()); root.Subcommands.Add(AccessCommands.Build());
        root.Subcommands.Add(HumanCommands.Build());
        root.Subcommands.Add(HumanBaselineCommands.Build());
        return root;
    }

    /// <summary>
    /// Parses and runs a command line. A parse error exits 2 with its message; anything a command throws goes through
    /// <see cref="ExitCodes.From"/>: one line on stderr and the table's exit code, never a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken ct = default)
    {
        var parse = Build().Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors) await Console.Error.WriteLineAsync($"error: {ExitCodes.OneLine(PlainTypes(e.Message))}");
            await Console.Error.WriteLineAsync($"(see: rebench {string.Join(' ', CommandPath(parse.CommandResult))} --help)");
            return ExitCodes.BadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, ct);
        }
        catch (Exception e)
        {
            var (code, message) = ExitCodes.From(e);
            await Console.Error.WriteLineAsync(message);
            if (Environment.GetEnvironmentVariable("REBENCH_DEBUG") == "1") Console.Error.WriteLine(e);
            return code;
        }
    }

    /// <summary>System.CommandLine names CLR types in its messages (System.Int32, System.Nullable`1[System.Int64]); a user wants words.</summary>
    public static string PlainTypes(string message) => System.Text.RegularExpressions.Regex.Replace(message,
        @"as expected type '([^']*)'", m => m.Groups[1].Value switch
        {
            var t when t.Contains("Int") => "as a whole number",
            var t when t.Contains("Double") || t.Contains("Single") || t.Contains("Decimal") => "as a number",
            var t when t.Contains("Boolean") => "as true or false",
            _ => "as the expected kind of value",
        });

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? c)
    {
        var names = new Stack<string>();
        for (var r = c; r?.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Push(r.Command.Name);
        return names;
    }

    public static PlatformClient Client(ParseResult r) => new(r.GetValue(Gateway)!, ApiKeyOf(r));

    /// <summary>--api-key, else --api-key-file, else REBENCH_API_KEY, else REBENCH_API_KEY_FILE; null when none is set.</summary>
    public static string? ApiKeyOf(ParseResult r)
    {
        if (r.GetValue(ApiKey) is { Length: > 0 } key) return key;
        var file = r.GetValue(ApiKeyFile)?.FullName;
        if (file is null && Environment.GetEnvironmentVariable("REBENCH_API_KEY") is { Length: > 0 } env) return env;
        file ??= Environment.GetEnvironmentVariable("REBENCH_API_KEY_FILE") is { Length: > 0 } f ? f : null;
        if (file is null) return null;
        // The message names the file, never its content.
        if (!File.Exists(file)) throw CliException.Bad($"API key file '{file}' does not exist");
        var text = File.ReadAllText(file).Trim();
        return text.Length > 0 ? text : throw CliException.Bad($"API key file '{file}' is empty");
    }
}
