using System.Diagnostics;
using Npgsql;
using ReBench.Orchestrator.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>Shared steps of the blob and campaign audit tests: attempts with blobs, SQL tampering, gRPC calls, Python.</summary>
internal sealed class AuditFixtures(OrchestratorHost host)
{
    public static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    public T Get<T>() where T : notnull => host.Services.GetRequiredService<T>();

    /// <summary>A campaign of <paramref name="count"/> attempts, scheduled, in one transaction.</summary>
    public Task<(Guid Campaign, Guid[] Attempts)> CampaignAsync(int count) => ScheduledCampaign.CreateAsync(host.Services, "blobs", count, T0);

    /// <summary>
    /// A started attempt with a model call recorded through the session handler (events 3: request and response
    /// blobs) and a file write with its content as a blob (event 4), then failed and sealed (events 5, 6).
    /// </summary>
    public async Task<(Guid Id, string Request, string Response, string Content)> AttemptWithBlobsAsync(Guid id, bool end = true)
    {
        var store = Get<AttemptStore>();
        var info = new AttemptDecider.StartInfo("env", "local", "node", "1", "b", "s", 2.5, 1e-5, "min", true, "dev");
        await store.AppendAsync(id, s => AttemptDecider.Start(s, info, "test", T0), CancellationToken.None);
        // Each attempt's blobs are its own (the id in each): a test that alters a blob must not alter another test's.
        var request = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('q', 20_000) + " caf\u00e9 " + id + "\"}]}";
        var response = "{\"choices\":[{\"text\":\"ok " + id + "\"}]}";
        await Get<AttemptSessionHandler>().RecordModelCallAsync(id, new ModelCallRecord
        {
            AttemptId = id.ToString(), StepId = "call-1", Provider = "p", Model = "m", InputTokens = 10, OutputTokens = 2, CostUsd = 0.01,
            RequestJson = request, ResponseJson = response,
        }, CancellationToken.None);
        var content = "print('hello from " + id + "')\n";
        var pending = new Blobs.PendingBlobs();
        var bytes = System.Text.Encoding.UTF8.GetBytes(content);
        var digest = pending.Add(bytes);
        var write = new ActionRequested(id, "w-1", "write_file", null, "solution.py", digest, bytes.Length, content, 0, "agent", T0) { ContentBlobStored = true };
        await store.AppendAsync(id, s => AttemptDecider.RequestAction(s, write, T0), CancellationToken.None, pending);
        if (end) await store.AppendAsync(id, s => AttemptDecider.Fail(s, "test failure", T0), CancellationToken.None);
        return (id, request, response, content);
    }

    public async Task<int> SqlAsync(string sql, params object[] args)
    {
        await using var db = NpgsqlDataSource.Create(TestEnv.PostgresConnectionString);
        await using var cmd = db.CreateCommand(sql.Replace("mt_events", $"\"{host.Schema}\".mt_events").Replace("blobs", $"\"{host.Schema}\".blobs"));
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return await cmd.ExecuteNonQueryAsync();
    }

    public async Task<Blob> GetBlobAsync(string sha256)
    {
        using var channel = TestPlatformKey.Channel(host.Server.BaseAddress, host.Server.CreateHandler());
        var method = new Method<GetBlobRequest, Blob>(MethodType.Unary, V1.Audit.Descriptor.FullName, "GetBlob",
            Marshallers.Create<GetBlobRequest>(m => m.ToByteArray(), GetBlobRequest.Parser.ParseFrom),
            Marshallers.Create<Blob>(r => r.ToByteArray(), Blob.Parser.ParseFrom));
        return await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), new GetBlobRequest { Sha256 = sha256 }).ResponseAsync;
    }

    /// <summary>tools/audit/verify_bundle.py on a bundle, with the platform key to trust (none: the bundle's own).</summary>
    public static (int Code, string Output) Python(string bundle, string? publicKey)
    {
        var script = Path.Combine(TestEnv.RepoRoot, "tools", "audit", "verify_bundle.py");
        var args = new List<string> { script, bundle };
        if (publicKey is not null) args.AddRange(["--public-key", publicKey]);
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        // stderr drained by the process's own reader while stdout is read here: no task to block on.
        var stderr = new StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginErrorReadLine();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the Python verifier did not finish in 60 s");
        p.WaitForExit(); // until the stderr reader reached the end of its pipe
        return (p.ExitCode, stdout + stderr);
    }
}
