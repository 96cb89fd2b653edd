namespace ReBench.Agents.Llm;

/// <summary>
/// The providers in configuration (Agents:Providers). Read on each lookup, so configuration added after start-up
/// (tests, reloads) applies to the next run.
/// </summary>
public sealed class ProviderCatalog(IConfiguration configuration)
{
    private IConfigurationSection Section => configuration.GetSection("Agents:Providers");

    public IReadOnlyList<string> Names => [.. Section.GetChildren().Select(c => c.Key).Order(StringComparer.Ordinal)];

    /// <summary>What is wrong with running provider <paramref name="name"/> (and model), or null.</summary>
    public string? Problem(string name, string? model)
    {
        try
        {
            Resolve(name, model);
            return null;
        }
        catch (ProviderConfigurationException e)
        {
            return e.Message;
        }
    }

    public ResolvedProvider Resolve(string name, string? model)
    {
        var section = Section.GetChildren().FirstOrDefault(c => string.Equals(c.Key, name, StringComparison.Ordinal));
        if (section is null)
        {
            var known = Names.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", Names);
            throw new ProviderConfigurationException($"unknown provider '{name}' ({known})");
        }
        var o = section.Get<ProviderOptions>() ?? new ProviderOptions();
        var kind = o.Kind.Trim().ToLowerInvariant() switch
        {
            "openai" => ProviderKind.OpenAI,
            "anthropic" => ProviderKind.Anthropic,
            _ => throw new ProviderConfigurationException(
                $"provider '{name}': Kind must be 'openai' or 'anthropic', got '{o.Kind}' (Agents:Providers:{name}:Kind)"),
        };
        // Says which key is missing, never what a key is.
        if (string.IsNullOrWhiteSpace(o.ApiKey))
            throw new ProviderConfigurationException($"provider '{name}' has no API key (set Agents:Providers:{name}:ApiKey)");
        if (o.Endpoint.Length > 0 && !Uri.TryCreate(o.Endpoint, UriKind.Absolute, out _))
            throw new ProviderConfigurationException($"provider '{name}': Endpoint '{o.Endpoint}' is not an absolute URL");
        var chosen = string.IsNullOrWhiteSpace(model) ? o.Model : model.Trim();
        if (string.IsNullOrWhiteSpace(chosen))
            throw new ProviderConfigurationException($"provider '{name}' has no model: set setting 'model' or Agents:Providers:{name}:Model");
        if (o.InputPricePerMTok < 0 || o.OutputPricePerMTok < 0 || o.CachedInputPricePerMTok < 0)
            throw new ProviderConfigurationException($"provider '{name}': prices must not be negative");
        if (o.MaxOutputTokens <= 0) throw new ProviderConfigurationException($"provider '{name}': MaxOutputTokens must be positive");
        return new ResolvedProvider(name, kind, o, chosen);
    }
}

public sealed class ProviderConfigurationException(string message) : Exception(message);
