using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.Tokens;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.Testing;

/// <summary>
/// The platform key every test host is given (backends refuse calls without a token signed with it; there is no way
/// to turn the check off) and the client side: channels and call headers that carry a token as the gateway or a
/// service would sign it.
/// </summary>
public static class TestPlatformKey
{
    /// <summary>Base64 of 32 bytes, test only.</summary>
    public const string Key = "cmViZW5jaC10ZXN0LXBsYXRmb3JtLWtleS0zMi1ieXRlcyE=";
    /// <summary>Who a test's direct call is, unless it says otherwise.</summary>
    public const string Principal = "service:test";
    public const string Role = "service";

    public static SymmetricSecurityKey SecurityKey { get; } = new(Convert.FromBase64String(Key));

    /// <summary>Tokens cached as a service caches its own, so a test's calls reuse one (and the backend's check its result).</summary>
    private static readonly PlatformTokenIssuer Issuer = new(
        PlatformKeys.From(new ConfigurationBuilder().AddInMemoryCollection([Setting]).Build()),
        TimeProvider.System);

    /// <summary>The setting a test host needs (Platform:Key).</summary>
    public static KeyValuePair<string, string?> Setting => new("Platform:Key", Key);

    /// <summary>The factory with the test key set (chain WithWebHostBuilder after it for the test's own settings).</summary>
    public static WebApplicationFactory<T> WithTestPlatformKey<T>(this WebApplicationFactory<T> factory) where T : class =>
        factory.WithWebHostBuilder(b => b.UseSetting(Setting.Key, Key));

    /// <summary>Writes the key to a file (0600) for a host configured with Platform:KeyFile.</summary>
    public static string WriteFile(string directory)
    {
        var path = Path.Combine(directory, "platform.key");
        File.WriteAllText(path, Key);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>A token valid now for five minutes, or with the given key, window or audience (attack tests).</summary>
    public static string Token(string principal = Principal, string role = Role, SecurityKey? key = null,
        DateTime? notBeforeUtc = null, DateTime? expiresUtc = null, string audience = PlatformTokens.Audience)
    {
        var start = notBeforeUtc ?? DateTime.UtcNow;
        return PlatformTokens.Create(key ?? SecurityKey, principal, role, start, expiresUtc ?? start + PlatformTokens.Lifetime, audience);
    }

    /// <summary>Call headers naming <paramref name="principal"/> and <paramref name="role"/>, as the gateway signs them.</summary>
    public static Metadata As(string principal, string role) => new() { { PlatformTokens.Header, Issuer.TokenFor(principal, role) } };

    /// <summary>A handler adding a token to every request that has none (a call's own, from <see cref="As"/>, wins).</summary>
    public static HttpMessageHandler Handler(HttpMessageHandler? inner = null) =>
        new TokenHandler(inner ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true });

    /// <summary>A channel to a backend whose calls carry a test token.</summary>
    public static GrpcChannel Channel(string address, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        options.HttpHandler = Handler(options.HttpHandler);
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>A channel to an in-memory test server (WebApplicationFactory's Server.BaseAddress and CreateHandler()).</summary>
    public static GrpcChannel Channel(Uri baseAddress, HttpMessageHandler serverHandler) =>
        GrpcChannel.ForAddress(baseAddress, new GrpcChannelOptions { HttpHandler = Handler(serverHandler) });

    private sealed class TokenHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Headers.Contains(PlatformTokens.Header))
                request.Headers.TryAddWithoutValidation(PlatformTokens.Header, Issuer.TokenFor(Principal, Role));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
