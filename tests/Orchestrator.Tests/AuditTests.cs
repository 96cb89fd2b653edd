using Npgsql;
using ReBench.Audit;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// Tamper evidence against the real PostgreSQL: each attempt is written through the stores, then altered directly
/// in mt_events the way an operator with database access could, and verification must name the first broken link.
/// Every attempt here has 7 events: scheduled, started, 3 model calls (3..5), failed (6), sealed (7).
/// </summary>
public sealed class AuditTests(OrchestratorHost host) : OrchestratorHostTest(host)
{
    private async Task<Guid> SealedAttemptAsync()
    {
        var id = await ScheduledAttemptAsync("audit", settings: new() { ["k"] = "v\u00e9\n" });
        var store = Get<AttemptStore>();
        var info = new AttemptDecider.StartInfo("env", "local", "node", "1", "b", "s", 2.5, 1e-5, "min", true, "dev");
        await store.AppendAsync(id, s => AttemptDecider.Start(s, info, "test", T0), CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var call = new ModelCallCompleted(id, $"call-{i}", "p", "model-" + i, 10, 20, 0, 0, 0.001 * (i + 1), 5, "{\"q\":1.50}", "{}", T0);
            await store.AppendAsync(id, s => [call], CancellationToken.None);
        }
        var final = await store.AppendAsync(id, s => AttemptDecider.Fail(s, "test failure", T0), CancellationToken.None);
        Assert.Equal(7, final.Version);
        return id;
    }

    private Task<ChainReport> VerifyAsync(Guid id) => Get<AttemptAuditor>().VerifyAsync(id, CancellationToken.None);

    private async Task SqlAsync(string sql, Guid stream)
    {
        await using var db = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
        await using var cmd = db.CreateCommand(sql.Replace("mt_events", $"\"{Host.Schema}\".mt_events"));
        cmd.Parameters.Add(new NpgsqlParameter("s", stream));
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task An_untouched_attempt_verifies_and_is_sealed_by_the_platform_key()
    {
        var id = await SealedAttemptAsync();
        var r = await VerifyAsync(id);
        Assert.True(r.Ok, r.Problem);
        Assert.Equal(7, r.EventsChecked);
        Assert.True(r.Sealed);
        Assert.Equal(6, r.SealedVersion);
        Assert.Equal(Get<PlatformKey>().KeyId, r.KeyId);

        var (events, _) = await Get<AttemptAuditor>().ReadAsync(id, CancellationToken.None);
        Assert.Equal("attempt_sealed", events[^1].Type);
        Assert.All(events, e => Assert.Matches("^[0-9a-f]{64}$", e.Hash!));
    }

    [Fact]
    public async Task The_campaign_stream_is_chained_too()
    {
        var id = await SealedAttemptAsync();
        await using var session = Get<Marten.IDocumentStore>().QuerySession();
        var campaignId = (await session.LoadAsync<AttemptView>(id))!.CampaignId;
        var (events, _) = await Get<AttemptAuditor>().ReadAsync(campaignId, CancellationToken.None);
        var r = ChainVerifier.Verify(EventChain.StreamKey(campaignId), events, Get<PlatformKey>().Trusted, terminalTypes: new HashSet<string>());
        Assert.True(r.Ok, r.Problem);
        Assert.True(r.EventsChecked >= 1);
    }

    [Fact]
    public async Task An_edited_event_is_located()
    {
        var id = await SealedAttemptAsync();
        await SqlAsync("update mt_events set data = jsonb_set(data, array[(select k from jsonb_object_keys(data) k where lower(k) = 'model')], '\"gpt-evil\"') " +
                       "where stream_id = @s and version = 4", id);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(4, r.BrokenAt);
        Assert.Contains("event 4", r.Problem);
        Assert.Equal(3, r.EventsChecked);
    }

    [Fact]
    public async Task A_deleted_event_is_located()
    {
        var id = await SealedAttemptAsync();
        await SqlAsync("delete from mt_events where stream_id = @s and version = 3", id);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(3, r.BrokenAt);
        Assert.Contains("missing", r.Problem);
    }

    [Fact]
    public async Task A_deleted_seal_is_located()
    {
        var id = await SealedAttemptAsync();
        await SqlAsync("delete from mt_events where stream_id = @s and version = 7", id);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(7, r.BrokenAt);
    }

    [Fact]
    public async Task Two_reordered_events_are_located()
    {
        var id = await SealedAttemptAsync();
        // Swap events 4 and 5 (through a free number: (stream_id, version) is unique).
        await SqlAsync("update mt_events set version = -4 where stream_id = @s and version = 4;" +
                       "update mt_events set version = 4 where stream_id = @s and version = 5;" +
                       "update mt_events set version = 5 where stream_id = @s and version = -4;", id);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(4, r.BrokenAt);
    }

    [Fact]
    public async Task A_history_rechained_and_resigned_with_another_key_is_located_at_the_seal()
    {
        var id = await SealedAttemptAsync();
        var intruder = SealSigner.Generate(out _);
        await RewriteAsync(id, intruder, keepKeyId: false);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(7, r.BrokenAt);
        Assert.Contains("unknown key", r.Problem);
    }

    [Fact]
    public async Task A_forged_signature_under_the_platform_key_id_is_located_at_the_seal()
    {
        var id = await SealedAttemptAsync();
        await RewriteAsync(id, SealSigner.Generate(out _), keepKeyId: true);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(7, r.BrokenAt);
        Assert.Contains("signature that is not valid for key", r.Problem);
    }

    [Fact]
    public async Task A_history_rechained_without_a_new_seal_is_located_at_the_seal()
    {
        var id = await SealedAttemptAsync();
        await RewriteAsync(id, signer: null, keepKeyId: true);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(7, r.BrokenAt);
    }

    [Fact]
    public async Task An_event_archived_in_place_is_located()
    {
        var id = await SealedAttemptAsync();
        await SqlAsync("update mt_events set is_archived = true where stream_id = @s and version = 5", id);
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(5, r.BrokenAt);
        Assert.Contains("archived", r.Problem);
    }

    [Fact]
    public async Task A_stream_archived_through_Marten_is_located_at_its_first_event()
    {
        // Marten's own history-hiding feature, used as an operator would: readers through Marten stop seeing the
        // events, the verifier (plain SQL) still sees them and refuses the history.
        var id = await SealedAttemptAsync();
        await using (var session = Get<Marten.IDocumentStore>().LightweightSession())
        {
            session.Events.ArchiveStream(id);
            await session.SaveChangesAsync();
        }
        var r = await VerifyAsync(id);
        Assert.False(r.Ok);
        Assert.Equal(1, r.BrokenAt);
        Assert.Contains("archived", r.Problem);
    }

    [Fact]
    public async Task An_unknown_attempt_is_not_found()
    {
        var e = await Assert.ThrowsAsync<DomainRejection>(() => VerifyAsync(Guid.NewGuid()));
        Assert.Equal(RejectionKind.NotFound, e.Kind);
    }

    /// <summary>
    /// What an intruder who knows the published algorithm does: edit event 4, recompute every later link, and
    /// (with a signer) re-sign the seal; keepKeyId claims the platform's key id for the new signature.
    /// </summary>
    private async Task RewriteAsync(Guid id, SealSigner? signer, bool keepKeyId)
    {
        var (events, _) = await Get<AttemptAuditor>().ReadAsync(id, CancellationToken.None);
        var stream = EventChain.StreamKey(id);
        var prev = events[2].Hash!;
        await using var db = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
        foreach (var e in events.Skip(3))
        {
            var data = JsonNode.Parse(e.DataJson)!.AsObject();
            if (e.Version == 4) Set(data, "Model", "gpt-evil");
            if (e.Type == "attempt_sealed")
            {
                Set(data, "HeadHash", prev);
                if (signer is not null)
                {
                    Set(data, "Signature", Convert.ToBase64String(signer.Sign(stream, e.Version - 1, prev)));
                    if (!keepKeyId) Set(data, "KeyId", signer.KeyId);
                }
            }
            var json = data.ToJsonString();
            prev = EventChain.Link(prev, stream, e.Version, e.Type, json);
            await using var cmd = db.CreateCommand($"update \"{Host.Schema}\".mt_events set data = $1::jsonb, " +
                                                   "headers = jsonb_set(coalesce(headers, '{}'), '{chain_hash}', to_jsonb($2::text)) where stream_id = $3 and version = $4");
            cmd.Parameters.Add(new NpgsqlParameter { Value = json });
            cmd.Parameters.Add(new NpgsqlParameter { Value = prev });
            cmd.Parameters.Add(new NpgsqlParameter { Value = id });
            cmd.Parameters.Add(new NpgsqlParameter { Value = e.Version });
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
    }

    private static void Set(JsonObject o, string name, string value)
    {
        var key = o.Select(p => p.Key).First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        o[key] = value;
    }
}
