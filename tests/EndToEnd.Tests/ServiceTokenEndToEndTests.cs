using Microsoft.IdentityModel.Tokens;
using ReBench.ServiceDefaults.PlatformAuth;

namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Issue 16, finding 2: a process on the host with no key called the backends directly. It ran sandbox Exec as the
/// scorer, read the protected area, got scoring's reference solution, and recorded a correction as a spoofed admin.
/// Against the services as processes: each of those calls without a service token, or with a forged, expired, foreign
/// or garbage one, is UNAUTHENTICATED and names what is wrong without echoing the token; the controls make the same
/// calls with a valid token and see them answered, so a refusal for another reason (a dead port) cannot pass the test.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ServiceTokenEndToEndTests(PlatformProcesses platform) : PlatformTest(platform)
{
    private static readonly Metadata None = [];

    [Fact]
    public async Task Backends_refuse_calls_without_a_valid_service_token_and_answer_them_with_one()
    {
        var environmentId = Guid.NewGuid().ToString("N");
        using var bare = GrpcChannel.ForAddress($"http://127.0.0.1:{Platform.Port("sandbox")}");
        using var signed = Platform.BackendChannel("sandbox");
        var intruder = new Sandbox.V1.Sandbox.SandboxClient(bare);
        var sandbox = new Sandbox.V1.Sandbox.SandboxClient(signed);
        // The control's environment, made with a valid token, so the intruder's calls have a real target.
        await sandbox.CreateEnvironmentAsync(new Sandbox.V1.CreateEnvironmentRequest { EnvironmentId = environmentId, TaskId = "s2s" });
        try
        {
            var exec = new Sandbox.V1.ExecRequest { EnvironmentId = environmentId, Command = "id -un", AsScorer = true };
            var read = new Sandbox.V1.ReadFileRequest { EnvironmentId = environmentId, Path = "score.log", ProtectedArea = true };
            var reference = new Scoring.V1.GetReferenceSolutionRequest { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" };
            using var bareScoring = GrpcChannel.ForAddress($"http://127.0.0.1:{Platform.Port("scoring")}");
            using var signedScoring = Platform.BackendChannel("scoring");

            foreach (var (name, headers) in BadCredentials())
            {
                var refused = new[]
                {
                    ("sandbox Exec as_scorer", await StatusOf(() => ExecAsync(intruder, exec, headers))),
                    ("sandbox ReadFile protected_area", await StatusOf(() => intruder.ReadFileAsync(read, headers).ResponseAsync)),
                    ("scoring GetReferenceSolution", await StatusOf(() => new Scoring.V1.Scoring.ScoringClient(bareScoring).GetReferenceSolutionAsync(reference, headers).ResponseAsync)),
                };
                foreach (var (call, status) in refused)
                {
                    Assert.True(status.StatusCode == StatusCode.Unauthenticated, $"{name}: {call} answered {status.StatusCode} {status.Detail}");
                    Assert.Equal(ExpectedMessage(name), status.Detail);
                    var token = headers.GetValue(PlatformTokens.Header);
                    if (!string.IsNullOrEmpty(token)) Assert.DoesNotContain(token[..Math.Min(token.Length, 20)], status.Detail);
                }
            }

            // Controls: the same calls with a valid token are answered.
            var output = await ExecAsync(sandbox, exec, None);
            Assert.Equal("rebench-scorer", output.Trim());
            var readStatus = await StatusOf(() => sandbox.ReadFileAsync(read).ResponseAsync);
            Assert.NotEqual(StatusCode.Unauthenticated, readStatus.StatusCode);
            var solution = await new Scoring.V1.Scoring.ScoringClient(signedScoring).GetReferenceSolutionAsync(reference);
            Assert.NotEmpty(solution.Files);
            // Health stays open for probes, on every backend, without a token.
            foreach (var service in new[] { "orchestrator", "sandbox", "scoring", "agents" })
            {
                using var probe = GrpcChannel.ForAddress($"http://127.0.0.1:{Platform.Port(service)}");
                var health = await new Grpc.Health.V1.Health.HealthClient(probe).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
                Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
            }
        }
        finally
        {
            await sandbox.DestroyEnvironmentAsync(new Sandbox.V1.DestroyEnvironmentRequest { EnvironmentId = environmentId });
        }
    }

    /// <summary>
    /// The spoofed principal: x-rebench-principal / x-rebench-role headers say nothing. Through the gateway, an auditor
    /// key's correction is refused and an admin key's is recorded under that key, not the spoofed name; straight to the
    /// orchestrator, the headers without a token are UNAUTHENTICATED, and with a service token the correction is the
    /// token's principal's.
    /// </summary>
    [Fact]
    public async Task Spoofed_caller_headers_never_name_the_actor_of_a_correction()
    {
        var client = Platform.Orchestrator();
        var script = string.Join('\n', new object[] { new { submit = "done" } }.Select(s => JsonSerializer.Serialize(s)));
        var campaign = await client.Campaigns.CreateCampaignAsync(new CreateCampaignRequest
        {
            Name = "s2s-spoof", AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(3)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } },
            Agents = { new AgentSpec { Name = "scripted", Settings = { ["script"] = script } } },
        });
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();
        var spoofed = new Metadata { { "x-rebench-principal", "spoofed-admin" }, { "x-rebench-role", "admin" } };
        RecordCorrectionRequest Note(string reason) => new() { AttemptId = attempt.AttemptId, Kind = "note", Reason = reason };

        var auditor = Platform.Orchestrator(PlatformProcesses.AuditorKey);
        var denied = await StatusOf(() => auditor.Audit.RecordCorrectionAsync(Note("auditor spoofing admin"), spoofed).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var recorded = await client.Audit.RecordCorrectionAsync(Note("admin key, spoofed headers"), spoofed);
        Assert.Equal((AdminKeyId, "admin"), (recorded.Actor, recorded.Role));

        using var bare = GrpcChannel.ForAddress($"http://127.0.0.1:{Platform.Port("orchestrator")}");
        var direct = await StatusOf(() => new Audit.AuditClient(bare).RecordCorrectionAsync(Note("no token"), spoofed).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, direct.StatusCode);
        Assert.Equal(TokenErrors.Missing, direct.Detail);

        using var signed = Platform.BackendChannel("orchestrator");
        var asService = await new Audit.AuditClient(signed).RecordCorrectionAsync(Note("service token, spoofed headers"), spoofed);
        Assert.Equal((TestPlatformKey.Principal, TestPlatformKey.Role), (asService.Actor, asService.Role));

        var all = await client.Audit.ListCorrectionsAsync(new ListCorrectionsRequest { AttemptId = attempt.AttemptId });
        Assert.Equal(["admin key, spoofed headers", "service token, spoofed headers"], all.Corrections.Select(c => c.Reason));
        Assert.DoesNotContain(all.Corrections, c => c.Actor == "spoofed-admin");
    }

    /// <summary>The admin key's id as the gateway names it (Gateway:ApiKeys:0 has no Id: the key's SHA-256 prefix).</summary>
    private static string AdminKeyId =>
        "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PlatformProcesses.ApiKey)))[..12];

    private static IEnumerable<(string Name, Metadata Headers)> BadCredentials()
    {
        Metadata With(string token) => new() { { PlatformTokens.Header, token } };
        var otherKey = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        var past = DateTime.UtcNow.AddMinutes(-30);
        yield return ("none", new Metadata { { "x-rebench-principal", "spoofed-admin" }, { "x-rebench-role", "admin" } });
        yield return ("another key", With(TestPlatformKey.Token("service:orchestrator", "service", key: otherKey)));
        yield return ("expired", With(TestPlatformKey.Token("service:orchestrator", "service", notBeforeUtc: past, expiresUtc: past.AddMinutes(5))));
        yield return ("wrong audience", With(TestPlatformKey.Token("service:orchestrator", "service", audience: "somewhere-else")));
        yield return ("garbage", With("not-a-token." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));
    }

    private static string ExpectedMessage(string name) => name switch
    {
        "none" => TokenErrors.Missing,
        "another key" => TokenErrors.BadSignature,
        "expired" => TokenErrors.Expired,
        "wrong audience" => TokenErrors.WrongAudience,
        _ => TokenErrors.Malformed,
    };

    private static async Task<string> ExecAsync(Sandbox.V1.Sandbox.SandboxClient client, Sandbox.V1.ExecRequest request, Metadata headers)
    {
        using var call = client.Exec(request, headers);
        var stdout = new StringBuilder();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == Sandbox.V1.ExecEvent.EventOneofCase.Stdout) stdout.Append(e.Stdout.ToStringUtf8());
        return stdout.ToString();
    }

    private static async Task<Status> StatusOf(Func<Task> call)
    {
        try
        {
            await call();
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }
}
