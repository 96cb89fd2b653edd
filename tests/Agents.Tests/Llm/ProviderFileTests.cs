using Microsoft.Extensions.Configuration;
using Catalog = ReBench.Agents.Llm;

namespace ReBench.Agents.Tests.Llm;

/// <summary>
/// Providers from one file (Agents:ProvidersFile) that the platform's run script passes: overlaid by configuration key by
/// key, reloaded when edited (no restart), keys from the file itself, a mounted secret file or an environment variable,
/// and never echoed in a message.
/// </summary>
public sealed class ProviderFileTests : IDisposable
{
    private const string Secret = "sk-file-secret-4242";
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-providers-").FullName;
    private string FilePath => Path.Combine(_dir, "providers.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Catalog.ProviderCatalog CatalogFor(string? file, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>(settings ?? []);
        if (file is not null) values["Agents:ProvidersFile"] = file;
        return new Catalog.ProviderCatalog(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }

    [Fact]
    public void The_file_defines_providers_and_configuration_overrides_them_key_by_key()
    {
        File.WriteAllText(FilePath, $$"""
            { "Providers": { "local": { "Kind": "openai", "Endpoint": "http://127.0.0.1:8000/v1", "ApiKey": "{{Secret}}", "Model": "small" } } }
            """);
        var catalog = CatalogFor(FilePath, new() { ["Agents:Providers:local:Model"] = "large", ["Agents:Providers:env-only:Kind"] = "anthropic", ["Agents:Providers:env-only:ApiKey"] = "k", ["Agents:Providers:env-only:Model"] = "m" });

        var local = catalog.Resolve("local", null);
        Assert.Equal((Catalog.ProviderKind.OpenAI, "http://127.0.0.1:8000/v1", Secret, "large"), (local.Kind, local.Options.Endpoint, local.Options.ApiKey, local.Model));
        Assert.Equal(["env-only", "local"], catalog.Names);
        Assert.Equal(FilePath, catalog.FilePath);
    }

    [Fact]
    public async Task An_edited_file_applies_to_the_next_lookup_without_a_restart()
    {
        await File.WriteAllTextAsync(FilePath, """{ "Providers": { "first": { "Kind": "openai", "ApiKey": "a", "Model": "m" } } }""");
        var catalog = CatalogFor(FilePath);
        Assert.Equal(["first"], catalog.Names);

        await File.WriteAllTextAsync(FilePath, """{ "Providers": { "second": { "Kind": "openai", "ApiKey": "b", "Model": "m2" } } }""");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!catalog.Names.SequenceEqual(["second"]) && DateTime.UtcNow < deadline) await Task.Delay(100);

        Assert.Equal(["second"], catalog.Names);
        Assert.Contains("unknown provider 'first' (configured: second)", catalog.Problem("first", null));
        Assert.Equal("m2", catalog.Resolve("second", null).Model);
    }

    [Fact]
    public void A_missing_file_means_no_providers_from_it_not_a_crash()
    {
        var catalog = CatalogFor(Path.Combine(_dir, "absent.json"));
        Assert.Empty(catalog.Names);
        Assert.Contains("none is configured", catalog.Problem("any", null));
    }

    [Fact]
    public void Keys_come_from_a_file_or_the_environment_and_no_message_echoes_one()
    {
        var keyFile = Path.Combine(_dir, "key.txt");
        File.WriteAllText(keyFile, Secret + "\nsecond line ignored\n");
        var variable = "REBENCH_TEST_PROVIDER_KEY_" + Guid.NewGuid().ToString("N");
        File.WriteAllText(FilePath, $$"""
            { "Providers": {
                "from-file": { "Kind": "openai", "ApiKeyFile": "{{keyFile}}", "Model": "m" },
                "from-env": { "Kind": "openai", "ApiKeyEnv": "{{variable}}", "Model": "m" },
                "no-file": { "Kind": "openai", "ApiKeyFile": "{{Path.Combine(_dir, "missing.txt")}}", "Model": "m" },
                "no-key": { "Kind": "openai", "Model": "m" },
                "bad-kind": { "Kind": "gemini", "ApiKey": "{{Secret}}", "Model": "m" } } }
            """);
        var catalog = CatalogFor(FilePath);

        Assert.Equal(Secret, catalog.Resolve("from-file", null).Options.ApiKey);
        Assert.Contains($"environment variable {variable} (ApiKeyEnv) is not set", catalog.Problem("from-env", null));
        Environment.SetEnvironmentVariable(variable, Secret);
        try
        {
            Assert.Equal(Secret, catalog.Resolve("from-env", null).Options.ApiKey);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        Assert.Contains("missing.txt cannot be read", catalog.Problem("no-file", null));
        Assert.Contains("has no API key (set ApiKey, ApiKeyFile or ApiKeyEnv", catalog.Problem("no-key", null));
        foreach (var name in new[] { "from-env", "no-file", "no-key", "bad-kind" })
            Assert.DoesNotContain(Secret, catalog.Problem(name, null) ?? "");
    }
}
