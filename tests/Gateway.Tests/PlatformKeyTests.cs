using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.IdentityModel.Tokens;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.Gateway.Tests;

/// <summary>
/// The platform key and the backend's token check, on a backend built by AddServiceDefaults (through
/// LoopbackService): a process without a usable key does not start and says why (never the key); tokens within the
/// clock skew pass and older ones do not; a token signed with the previous key still passes during a rotation.
/// </summary>
public sealed class PlatformKeyTests
{
    private static Task<Microsoft.AspNetCore.Builder.WebApplication> Backend(int port, params (string Key, string? Value)[] settings) =>
        LoopbackService.StartAsync("probe", port, settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)), _ => { }, _ => { });

    [Theory]
    [InlineData("Platform:Key", "", "no platform key")]
    [InlineData("Platform:Key", "c2hvcnQta2V5", "has 9 bytes; at least 32")]
    [InlineData("Platform:Key", "not base64 at all!", "not base64")]
    [InlineData("Platform:KeyFile", "/nonexistent/platform.key", "cannot read the key file")]
    public async Task A_service_without_a_usable_key_does_not_start_and_says_why(string setting, string value, string expected)
    {
        var settings = setting == "Platform:KeyFile" ? new[] { (setting, (string?)value) } : [(setting, value)];
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Backend(TestEnv.FreePort(), settings));
        Assert.Contains(expected, e.Message);
        if (value.Length > 0 && setting == "Platform:Key") Assert.DoesNotContain(value, e.Message);
    }

    [Fact]
    public async Task Only_health_passes_without_a_token_and_reflection_needs_one()
    {
        var port = TestEnv.FreePort();
        await using var app = await Backend(port);
        using var bare = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        using var signed = TestPlatformKey.Channel($"http://127.0.0.1:{port}");

        var health = await new Health.HealthClient(bare).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using (var anonymous = new ServerReflection.ServerReflectionClient(bare).ServerReflectionInfo())
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => anonymous.ResponseStream.MoveNext());
            Assert.Equal((StatusCode.Unauthenticated, TokenErrors.Missing), (e.StatusCode, e.Status.Detail));
        }
        using var call = new ServerReflection.ServerReflectionClient(signed).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Contains("grpc.health.v1.Health", call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name));
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task Clock_skew_of_a_minute_or_two_is_tolerated_and_older_tokens_are_not()
    {
        var validator = new PlatformTokenValidator(Keys([TestPlatformKey.Setting]), TimeProvider.System);
        var now = DateTime.UtcNow;
        // A sender whose clock runs a minute ahead (not yet valid here) or whose token ended a minute ago: accepted.
        Assert.NotNull((await validator.ValidateAsync(TestPlatformKey.Token(notBeforeUtc: now.AddMinutes(1), expiresUtc: now.AddMinutes(6)))).Caller);
        Assert.NotNull((await validator.ValidateAsync(TestPlatformKey.Token(notBeforeUtc: now.AddMinutes(-6), expiresUtc: now.AddMinutes(-1)))).Caller);
        // Beyond the skew: refused, and the message says which.
        Assert.Equal(TokenErrors.Expired, (await validator.ValidateAsync(TestPlatformKey.Token(notBeforeUtc: now.AddMinutes(-9), expiresUtc: now.AddMinutes(-4)))).Error);
        Assert.Equal(TokenErrors.NotYetValid, (await validator.ValidateAsync(TestPlatformKey.Token(notBeforeUtc: now.AddMinutes(4), expiresUtc: now.AddMinutes(9)))).Error);
    }

    [Fact]
    public async Task During_a_rotation_tokens_of_the_previous_key_still_pass_and_others_do_not()
    {
        var dir = Directory.CreateTempSubdirectory("rebench-keys-").FullName;
        try
        {
            var newKey = Path.Combine(dir, "new-platform.key");
            await File.WriteAllTextAsync(newKey, PlatformKeys.NewKeyText());
            var oldKey = TestPlatformKey.WriteFile(dir);
            var rotated = Keys([new("Platform:KeyFile", newKey), new("Platform:PreviousKeyFiles:0", oldKey)]);
            var validator = new PlatformTokenValidator(rotated, TimeProvider.System);

            var (caller, error) = await validator.ValidateAsync(TestPlatformKey.Token("service:orchestrator", "service"));
            Assert.True(caller is not null, error);
            Assert.Equal(new PlatformCaller("service:orchestrator", "service"), caller);
            // New tokens are signed with the new key, which the old one alone does not verify.
            var fresh = new PlatformTokenIssuer(rotated, TimeProvider.System).TokenFor("service:scoring", "service");
            Assert.NotNull((await validator.ValidateAsync(fresh)).Caller);
            var oldOnly = new PlatformTokenValidator(Keys([TestPlatformKey.Setting]), TimeProvider.System);
            Assert.Equal(TokenErrors.BadSignature, (await oldOnly.ValidateAsync(fresh)).Error);
            // A key that was never the platform's: refused.
            var foreign = TestPlatformKey.Token(key: new SymmetricSecurityKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            Assert.Equal(TokenErrors.BadSignature, (await validator.ValidateAsync(foreign)).Error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static PlatformKeys Keys(KeyValuePair<string, string?>[] settings) =>
        PlatformKeys.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
}
