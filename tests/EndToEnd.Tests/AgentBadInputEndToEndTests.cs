namespace ReBench.EndToEnd.Tests;

/// <summary>
/// Bad input to the LLM scaffolds through the real platform: a provider the agents service does not know, one whose
/// endpoint does not listen, a malformed script or a setting of the wrong type refuses CreateCampaign and creates
/// nothing; a model name the endpoint rejects ends the attempt cleanly (the failed call, a
/// `run_failed` note with the provider's message, the submission, the final score), long before its deadline.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentBadInputEndToEndTests(PlatformProcesses platform, ITestOutputHelper output) : PlatformTest(platform)
{
    private static CreateCampaignRequest Campaign(string name, params (string Key, string Value)[] settings)
    {
        var agent = new AgentSpec { Name = "modular" };
        foreach (var (k, v) in settings) agent.Settings[k] = v;
        return new CreateCampaignRequest
        {
            Name = name, AttemptsPerPair = 1, TimeBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
            Tasks = { new TaskRef { TaskId = "ai_rd_triton_cumsum", Variant = "cpu" } }, Agents = { agent },
        };
    }

    /// <summary>CreateCampaign is refused with <paramref name="code"/>; no campaign and no attempt was written.</summary>
    private async Task<string> RefusedAsync(CreateCampaignRequest request, StatusCode code)
    {
        var client = Platform.Orchestrator();
        var campaigns = await EndState.AllCampaignIdsAsync(Platform);
        var attempts = (await EndState.AllAttemptsAsync(Platform)).Select(a => a.AttemptId).ToHashSet();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.Campaigns.CreateCampaignAsync(request));
        Assert.Equal(code, e.StatusCode);
        Assert.True(e.Status.Detail.Length < 400, $"a {e.Status.Detail.Length}-character message");
        Assert.Equal(campaigns, await EndState.AllCampaignIdsAsync(Platform));
        Assert.Equal(attempts, (await EndState.AllAttemptsAsync(Platform)).Select(a => a.AttemptId).ToHashSet());
        output.WriteLine($"{e.StatusCode}: {e.Status.Detail}");
        return e.Status.Detail;
    }

    [Fact]
    public async Task An_unknown_provider_is_refused_at_creation_and_nothing_is_created()
    {
        // Before, the campaign was created and its attempt failed at start, after its sandbox was provisioned.
        var detail = await RefusedAsync(Campaign("bad-provider-e2e", ("provider", "no-such-provider")), StatusCode.InvalidArgument);
        Assert.Contains("agents[0] ('modular')", detail);
        Assert.Contains("unknown provider 'no-such-provider'", detail);
        Assert.Contains("configured: scripted", detail);
    }

    [Fact]
    public async Task A_malformed_script_is_refused_at_creation_naming_its_line_and_nothing_is_created()
    {
        var request = Campaign("bad-script-e2e");
        request.Agents.Clear();
        request.Agents.Add(new AgentSpec { Name = "noop" });
        request.Agents.Add(new AgentSpec { Name = "scripted", Settings = { ["script"] = "{\"run\": \"echo ok\"}\n\n{\"run\": \"ls\", \"timeout\": \"soon\"}" } });
        var detail = await RefusedAsync(request, StatusCode.InvalidArgument);
        Assert.Contains("agents[1] ('scripted')", detail);
        Assert.Contains("script line 3", detail);
        Assert.Contains("timeout", detail);
    }

    [Theory]
    [InlineData("cost_budget_usd", "five")]
    [InlineData("token_budget", "-100")]
    [InlineData("model", "")]
    public async Task A_setting_of_the_wrong_type_is_refused_at_creation_and_nothing_is_created(string setting, string value)
    {
        // The provider is fine (its endpoint listens): only the setting is wrong.
        using var model = new RejectingModel(Platform.LlmPort);
        var detail = await RefusedAsync(Campaign("bad-setting-e2e", ("provider", "scripted"), (setting, value)), StatusCode.InvalidArgument);
        Assert.Contains($"setting '{setting}'", detail);
        Assert.Empty(model.Models);
    }

    [Fact]
    public async Task A_provider_whose_endpoint_is_down_is_refused_at_creation_and_created_once_it_listens()
    {
        // Nothing listens on the configured provider's port (127.0.0.1) until the model server starts.
        var detail = await RefusedAsync(Campaign("provider-down-e2e", ("provider", "scripted")), StatusCode.FailedPrecondition);
        Assert.Contains("provider 'scripted'", detail);
        Assert.Contains($"127.0.0.1:{Platform.LlmPort}", detail);

        // Control: the same request is accepted once the endpoint accepts connections.
        using var model = new RejectingModel(Platform.LlmPort);
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Campaign("provider-up-e2e", ("provider", "scripted"), ("model", "no-such-model")));
        Assert.Equal(1, campaign.AttemptsTotal);
        await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_model_name_the_endpoint_rejects_ends_the_attempt_cleanly_with_the_providers_message_recorded()
    {
        using var model = new RejectingModel(Platform.LlmPort);
        var client = Platform.Orchestrator();
        var campaign = await client.Campaigns.CreateCampaignAsync(Campaign("bad-model-e2e", ("provider", "scripted"), ("model", "no-such-model")));
        // The budget is 30 minutes: ending within a few shows the attempt was not left idle until its deadline.
        var attempt = (await Waits.CampaignFinishedAsync(client, campaign.CampaignId, TimeSpan.FromMinutes(4))).Single();

        Assert.Equal(AttemptStatus.Completed, attempt.Status);
        var events = await Waits.EventsAsync(client, attempt.AttemptId);
        foreach (var e in events) output.WriteLine($"#{e.Version} {e.EventType} {(e.DataJson.Length > 300 ? e.DataJson[..300] : e.DataJson)}");
        var call = Assert.Single(events, e => e.EventType == "model_call_completed");
        Assert.Equal("no-such-model", call.Field("Model").GetString());
        var note = Assert.Single(events, e => e.EventType == "agent_note_recorded");
        Assert.Equal("run_failed", note.Field("Kind").GetString());
        Assert.Contains("HTTP 404", note.Field("Json").GetString());
        Assert.Contains("does not exist", note.Field("Json").GetString());
        Assert.StartsWith("the agent's run failed: ", events.Single(e => e.EventType == "submission_received").Field("Submission").GetString());
        Assert.Contains(events, e => e.EventType == "final_score_recorded");
        Assert.DoesNotContain(events, e => e.EventType == "action_requested");
        Assert.DoesNotContain(events, e => e.DataJson.Contains(PlatformProcesses.LlmApiKey, StringComparison.Ordinal));
        Assert.Equal("no-such-model", model.Models.Single());
    }

    /// <summary>An OpenAI-compatible endpoint that knows no model: every chat completion is a 404 naming the model.</summary>
    private sealed class RejectingModel(int port) : LoopbackModel(port)
    {
        private readonly List<string> _models = [];

        public IReadOnlyList<string> Models { get { lock (_models) return [.. _models]; } }

        protected override (int Status, JsonObject Body)? Answer(int n, string body, HttpListenerRequest request)
        {
            var model = JsonNode.Parse(body)?["model"]?.GetValue<string>() ?? "";
            lock (_models) _models.Add(model);
            return (404, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["message"] = $"The model `{model}` does not exist or you do not have access to it.",
                    ["type"] = "invalid_request_error", ["code"] = "model_not_found",
                },
            });
        }
    }
}
