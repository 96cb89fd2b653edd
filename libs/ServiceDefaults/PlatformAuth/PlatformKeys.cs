using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace ReBench.ServiceDefaults.PlatformAuth;

/// <summary>
/// The platform key every service and the gateway share: the current one signs and validates service tokens, the
/// previous ones (Platform:PreviousKeyFiles) only validate, so a rolling restart onto a new key does not refuse tokens
/// signed a moment earlier by a service still on the old one. Read from Platform:KeyFile (a file holding base64 of at
/// least 32 random bytes: the key never appears in argv or the environment) or Platform:Key (base64, for hosts
/// configured in memory). Errors name the setting and what is wrong with it, never the key.
/// </summary>
public sealed class PlatformKeys
{
    public const int MinKeyBytes = 32;
    public const string Section = "Platform";

    public SymmetricSecurityKey Current { get; }
    public IReadOnlyList<SymmetricSecurityKey> All { get; }

    private PlatformKeys(byte[] current, IEnumerable<byte[]> previous)
    {
        Current = new SymmetricSecurityKey(current);
        All = [Current, .. previous.Select(p => new SymmetricSecurityKey(p))];
    }

    public static PlatformKeys From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var file = section["KeyFile"];
        var inline = section["Key"];
        byte[] current;
        if (!string.IsNullOrWhiteSpace(file)) current = ReadFile(file, "Platform:KeyFile");
        else if (!string.IsNullOrWhiteSpace(inline)) current = Decode(inline, "Platform:Key");
        else
        {
            throw new InvalidOperationException(
                "no platform key: set Platform:KeyFile to a file holding base64 of at least 32 random bytes " +
                "(scripts/run.sh creates .data/run/platform.key), or Platform:Key; services refuse every call without it");
        }
        var previous = section.GetSection("PreviousKeyFiles").GetChildren()
            .Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v))
            .Select((path, i) => ReadFile(path!, $"Platform:PreviousKeyFiles:{i}"))
            .ToList();
        return new PlatformKeys(current, previous);
    }

    /// <summary>A new key as the key file holds it (base64 of 32 random bytes).</summary>
    public static string NewKeyText() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(MinKeyBytes));

    private static byte[] ReadFile(string path, string setting)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting}: cannot read the key file {path}: {e.GetType().Name}");
        }
        return Decode(text, setting);
    }

    private static byte[] Decode(string text, string setting)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{setting}: the platform key is not base64");
        }
        if (bytes.Length < MinKeyBytes)
            throw new InvalidOperationException($"{setting}: the platform key has {bytes.Length} bytes; at least {MinKeyBytes} random bytes are needed");
        return bytes;
    }
}
