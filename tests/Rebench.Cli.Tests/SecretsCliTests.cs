using System.CommandLine;

namespace ReBench.Cli.Tests;

/// <summary>
/// Secrets stay out of what the CLI prints (issue 16, finding 6): with the key in REBENCH_API_KEY or in a key file,
/// no command's help shows it, and an unreadable key file is named without its content.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SecretsCliTests : IDisposable
{
    private const string Secret = "some-secret-value-9f2c";
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-cli-secrets-").FullName;
    private readonly Dictionary<string, string?> _saved = new();

    public void Dispose()
    {
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
        Directory.Delete(_dir, recursive: true);
    }

    private void Set(string name, string? value)
    {
        _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    private static IEnumerable<string[]> EveryCommand(Command c, string[] path)
    {
        yield return path;
        foreach (var sub in c.Subcommands)
            foreach (var p in EveryCommand(sub, [.. path, sub.Name])) yield return p;
    }

    [Fact]
    public async Task No_help_text_shows_the_key_from_the_environment_or_a_key_file()
    {
        var file = Path.Combine(_dir, "key");
        await File.WriteAllTextAsync(file, Secret + "-from-file\n");
        Set("REBENCH_API_KEY", Secret);
        Set("REBENCH_API_KEY_FILE", file);
        var commands = EveryCommand(CliApp.Build(), []).ToList();
        Assert.True(commands.Count > 20, $"only {commands.Count} commands found");
        foreach (var path in commands)
        {
            var (exit, output, err) = await CliInputTests.RunAsync([.. path, "--help"]);
            Assert.True(exit == 0, $"rebench {string.Join(' ', path)} --help: exit {exit}\n{err}");
            Assert.Contains("--api-key", output);
            Assert.DoesNotContain(Secret, output + err);
        }
    }

    [Fact]
    public void No_option_that_carries_a_secret_has_a_default_that_help_would_print()
    {
        // Help prints "[default: X]" for an option with a DefaultValueFactory: none may carry a key or a token.
        var options = EveryOption(CliApp.Build()).Where(o => o.Name.Contains("key") || o.Name.Contains("token") || o.Name.Contains("secret")).ToList();
        Assert.Contains(options, o => o.Name == "--api-key"); // the walk does reach them
        Assert.All(options, o => Assert.False(o.HasDefaultValue, $"{o.Name} has a default value that help would print"));
    }

    [Fact]
    public async Task A_key_file_is_read_and_a_missing_or_empty_one_is_named_without_its_content()
    {
        var file = Path.Combine(_dir, "key");
        await File.WriteAllTextAsync(file, " " + Secret + "\n");
        Set("REBENCH_API_KEY", null);
        Set("REBENCH_API_KEY_FILE", null);
        Assert.Equal(Secret, CliApp.ApiKeyOf(CliApp.Build().Parse(["--api-key-file", file, "tasks", "list"])));
        Set("REBENCH_API_KEY_FILE", file);
        Assert.Equal(Secret, CliApp.ApiKeyOf(CliApp.Build().Parse(["tasks", "list"])));
        // The command line and the variable come first, as documented.
        Set("REBENCH_API_KEY", "from-env");
        Assert.Equal("from-env", CliApp.ApiKeyOf(CliApp.Build().Parse(["tasks", "list"])));
        Assert.Equal("given", CliApp.ApiKeyOf(CliApp.Build().Parse(["--api-key", "given", "tasks", "list"])));

        var (exit, output, err) = await CliInputTests.RunAsync("--api-key-file", Path.Combine(_dir, "absent"), "tasks", "list");
        Assert.Equal(2, exit);
        Assert.Contains("API key file", err);
        var empty = Path.Combine(_dir, "empty");
        await File.WriteAllTextAsync(empty, "\n");
        (exit, output, err) = await CliInputTests.RunAsync("--api-key-file", empty, "tasks", "list");
        Assert.Equal(2, exit);
        Assert.Contains("is empty", err);
        Assert.DoesNotContain(Secret, output + err);
    }

    private static IEnumerable<Option> EveryOption(Command c) =>
        c.Options.Concat(c.Subcommands.SelectMany(EveryOption));
}
