namespace ReBench.Agents.Drivers;

/// <summary>The registered drivers by name.</summary>
public sealed class DriverCatalog(IEnumerable<IAgentDriver> drivers)
{
    private readonly IReadOnlyDictionary<string, IAgentDriver> _byName = drivers.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public IEnumerable<IAgentDriver> All => _byName.Values.OrderBy(d => d.Name, StringComparer.Ordinal);

    public string KnownNames => string.Join(", ", All.Select(d => d.Name));

    public IAgentDriver? Find(string name) => _byName.GetValueOrDefault(name);
}
