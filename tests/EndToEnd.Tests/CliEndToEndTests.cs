namespace ReBench.EndToEnd.Tests;

/// <summary>
/// The built `rebench` CLI as a process against the real platform, as a new user runs it: mistakes the server finds
/// exit with the code of the one table (4 not found, 3 refused, 2 bad input) and one line, never a stack trace; the
/// catalog, key and blob commands work; one scripted attempt covers the task:variant filter, JSON events and blobs.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class CliEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform), IDisposable
{
    private const int BadInput = 2, Refused = 3, NotFound = 4;
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-cli-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Code, string Text)> CliAsync(params string[] args)
    {
        var (code, text) = await Cli.RebenchAsync(output, Platform, PlatformProcesses.ApiKey, TimeSpan.FromMinutes(1), args);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        return (code, text);
    }

    private async Task ExpectAsync(int exit, string? contains, params string[] args)
    {
        var (code, text) = await CliAsync(args);
        Assert.True(code == exit, $"rebench {string.Join(' ', args)}: exit {code}, expected {exit}\n{text}");
        Assert.Contains("error: ", text);
        if (contains is not null) Assert.Contains(contains, text);
    }

    [Fact]
    public async Task Server_side_mistakes_exit_with_their_code_and_no_stack_trace()
    {
        var unknown = Guid.NewGuid().ToString();
        await ExpectAsync(NotFound, "no_such_task", "campaign", "create", "--task", "no_such_task:cpu", "--agent", "noop", "--budget", "1m");
        await ExpectAsync(NotFound, null, "campaign", "create", "--task", "ai_rd_triton_cumsum:no_such_variant", "--agent", "noop", "--budget", "1m");
        await ExpectAsync(NotFound, "no_such_agent", "campaign", "create", "--task", "ai_rd_triton_cumsum:cpu", "--agent", "no_such_agent", "--budget", "1m");
        await ExpectAsync(NotFound, null, "attempts", "show", unknown);
        await ExpectAsync(NotFound, null, "attempts", "events", unknown);
        await ExpectAsync(NotFound, null, "attempts", "events", unknown, "--json");
        await ExpectAsync(BadInput, null, "attempts", "show", "not-an-id");
        await ExpectAsync(NotFound, null, "verify", unknown);
        await ExpectAsync(NotFound, null, "blob", "get", new string('0', 64));
        await ExpectAsync(NotFound, null, "tasks", "show", "no_such_task");
        // Before, this polled an empty attempt list for ever (Cli.RunAsync's limit turns a hang into a failure).
        await ExpectAsync(NotFound, null, "campaign", "watch", unknown);
    }

    [Fact]
    public async Task Tasks_and_key()
    {
        var (code, text) = await CliAsync("tasks", "list");
        Assert.True(code == 0, text);
        Assert.Contains("ai_rd_triton_cumsum:cpu", text);

        (code, text) = await CliAsync("tasks", "show", "ai_rd_triton_cumsum:cpu", "--json");
        Assert.True(code == 0, text);
        using (var task = JsonDocument.Parse(text))
        {
            Assert.Equal("cpu", task.RootElement.GetProperty("variant").GetString());
            Assert.DoesNotContain("AGGREGATION_", task.RootElement.GetProperty("aggregation").GetString());
            Assert.True(task.RootElement.TryGetProperty("gpuCount", out _), "zero values are kept");
        }

        // The agents a campaign may name, through the gateway's one Agents route.
        (code, text) = await CliAsync("agents", "list");
        Assert.True(code == 0, text);
        foreach (var agent in new[] { "noop", "reference", "scripted", "modular", "aide" }) Assert.Contains(agent, text);
        (code, text) = await CliAsync("agents", "list", "--json");
        Assert.True(code == 0, text);
        var modular = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(a => a.GetProperty("name").GetString() == "modular");
        Assert.Contains("provider", modular.GetProperty("requiredSettings").EnumerateArray().Select(e => e.GetString()));

        (code, text) = await CliAsync("key", "--json");
        Assert.True(code == 0, text);
        var expected = (await Platform.Orchestrator().Audit.GetPublicKeyAsync(new GetPublicKeyRequest())).Current;
        using var keys = JsonDocument.Parse(text);
        var current = keys.RootElement[0];
        Assert.True(current.GetProperty("current").GetBoolean());
        Assert.Equal(expected.KeyId, current.GetProperty("key_id").GetString());
        var raw = Convert.FromBase64String(current.GetProperty("public_key").GetString()!);
        Assert.Equal(expected.PublicKey_.ToByteArray(), raw);
        var fingerprint = current.GetProperty("fingerprint_sha256").GetString()!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(raw)), fingerprint);
        Assert.StartsWith(expected.KeyId, fingerprint);
    }

    [Fact]
    public async Task One_scripted_attempt_through_the_cli()
    {
        var script = Path.Combine(_dir, "actions.jsonl");
        await File.WriteAllTextAsync(script, "{\"write\": \"notes.txt\", \"content\": \"hello from the cli e2e\"}\n{\"submit\": \"done\"}\n");
        var (code, text) = await CliAsync("campaign", "create", "--task", "ai_rd_triton_cumsum:cpu", "--agent", "scripted", "--script", script,
            "--budget", "2m", "--name", "cli-e2e", "--watch");
        Assert.True(code == 0, text);
        var campaignId = text.Split(' ', ':', '\n')[1];
        var attempt = (await Platform.Orchestrator().Attempts.ListAttemptsAsync(new ListAttemptsRequest { CampaignId = campaignId })).Attempts.Single();
        Assert.True(Waits.IsFinished(attempt), $"{attempt.Status}");

        // --task takes task:variant, the form the tables print; a different variant filters the attempt out.
        (code, text) = await CliAsync("attempts", "list", "--campaign", campaignId, "--task", "ai_rd_triton_cumsum:cpu");
        Assert.True(code == 0, text);
        Assert.Contains(attempt.AttemptId, text);
        (code, text) = await CliAsync("attempts", "list", "--campaign", campaignId, "--task", "ai_rd_triton_cumsum:gpu");
        Assert.True(code == 0, text);
        Assert.DoesNotContain(attempt.AttemptId, text);

        (code, text) = await CliAsync("attempts", "list", "--campaign", campaignId, "--json");
        Assert.True(code == 0, text);
        Assert.DoesNotContain("ATTEMPT_STATUS_", text);
        using (var listed = JsonDocument.Parse(text))
            Assert.Equal(attempt.Status.ToString().ToLowerInvariant(), listed.RootElement.GetProperty("status").GetString());

        // Events as JSON: data nested as objects; the written file's blob comes back byte for byte.
        (code, text) = await CliAsync("attempts", "events", attempt.AttemptId, "--json");
        Assert.True(code == 0, text);
        string? sha = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')))
        {
            using var e = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, e.RootElement.GetProperty("data").ValueKind);
            if (e.RootElement.GetProperty("eventType").GetString() == "action_requested")
                foreach (var p in e.RootElement.GetProperty("data").EnumerateObject())
                    if (p.Name.Equals("ContentSha256", StringComparison.OrdinalIgnoreCase)) sha = p.Value.GetString();
        }
        Assert.NotNull(sha);
        var file = Path.Combine(_dir, "blob.txt");
        (code, text) = await CliAsync("blob", "get", sha!, "-o", file);
        Assert.True(code == 0, text);
        Assert.Equal("hello from the cli e2e", await File.ReadAllTextAsync(file));
        (code, text) = await CliAsync("blob", "get", sha!, "--attempt", attempt.AttemptId);
        Assert.True(code == 0, text);
        Assert.Contains("hello from the cli e2e", text);
        await ExpectAsync(NotFound, "references no blob", "blob", "get", new string('0', 64), "--attempt", attempt.AttemptId);

        // The attempt has ended: cancelling it is refused (3), not a crash.
        await ExpectAsync(Refused, null, "attempts", "cancel", attempt.AttemptId, "--reason", "too late");
    }
}
