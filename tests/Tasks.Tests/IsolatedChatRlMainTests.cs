namespace ReBench.Tasks.Tests;

/// <summary>
/// Issue 23: the official nanogpt_chat_rl scorer runs the agent's generation code, so inside the sandbox that code
/// must run as the agent ($REBENCH_AGENT_EXEC), unable to read the reference models' answers the scorer reads. The
/// GPU parts are stand-ins (a generation.py without a model; a judge on the environment's own loopback that always
/// answers "m"), and the environment gets small resources and no network: what is checked is who runs what.
/// </summary>
[Trait("Category", "Slow")]
public sealed class IsolatedChatRlMainTests(IsolatedScoring platform) : IClassFixture<IsolatedScoring>, IDisposable
{
    private readonly string _scoring = Directory.CreateTempSubdirectory("rebench-chat-main-").FullName;

    public void Dispose() => Directory.Delete(_scoring, recursive: true);

    private const string Judge = """
        import http.server, json, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                out = json.dumps({"choices": [{"message": {"role": "assistant", "content": "m"}}]}).encode()
                self.send_response(200); self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
            def log_message(self, *a): pass
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        open(sys.argv[1], "w").write(str(s.server_address[1]))
        s.serve_forever()
        """;

    // Every answer reports the generation code's user and whether it could open the reference answers.
    private const string Generation = """
        import os
        def generate(model_path, prompts):
            path = os.path.join(os.path.dirname(os.environ["HOME"]), "protected", "HELDOUT_DATA", "reference_responses.json")
            try:
                open(path).read()
                probe = "LEAK"
            except OSError as e:
                probe = f"DENIED errno={e.errno}"
            return [f"uid={os.getuid()} groups={sorted(os.getgroups())} {probe}" for _ in prompts]
        """;

    [Fact]
    public async Task The_generation_code_runs_as_the_agent_and_cannot_read_the_reference_answers()
    {
        var bundle = BundleScorer.Variant("ai_rd_nanogpt_chat_rl", "main");
        foreach (var file in Directory.EnumerateFiles(bundle.Folders.Scoring))
            File.Copy(file, Path.Combine(_scoring, Path.GetFileName(file)));
        var data = Directory.CreateDirectory(Path.Combine(_scoring, "HELDOUT_DATA")).FullName;
        await File.WriteAllLinesAsync(Path.Combine(data, "heldout_prompts.jsonl"), ["{\"prompt\": \"Say hello.\"}", "{\"prompt\": \"Name a color.\"}"]);
        await File.WriteAllTextAsync(Path.Combine(data, "reference_responses.json"), "{\"gpt2-xl\": [\"hi\", \"red\"], \"gpt2-alpaca\": [\"hello\", \"blue\"]}");
        // The scorer cannot write the home: the judge's port goes through a file in the environment's /tmp.
        var command = "pf=$(mktemp); /usr/bin/python3 -s \"$HOME/judge.py\" \"$pf\" & for i in $(seq 100); do [ -s \"$pf\" ] && break; sleep 0.1; done; " +
                      "JUDGE_BASE_URL=http://127.0.0.1:$(cat \"$pf\")/v1 JUDGE_API_KEY=k " + bundle.Scoring.Command + "; status=$?; kill %1; exit $status";
        var task = bundle with
        {
            Network = false,
            Resources = bundle.Resources with { Cpus = 2, MemoryMb = 2048, DiskMb = 1024, GpuCountMin = 0, GpuCountMax = 0, GpuModel = null },
            Folders = bundle.Folders with { Scoring = _scoring },
            Scoring = bundle.Scoring with { Command = command, TimeoutSeconds = 120 },
        };
        var env = await platform.NewEnvironmentAsync(task, reference: false);
        try
        {
            foreach (var (path, text) in new[] { ("judge.py", Judge), ("solution/generation.py", Generation), ("solution/trained_model/config.json", "{}") })
                await platform.Sandbox.WriteFileAsync(new Sandbox.V1.WriteFileRequest { EnvironmentId = env, Path = path, Content = ByteString.CopyFromUtf8(text) });
            var (_, control) = await platform.ExecAsync(env, "test -r \"$REBENCH_PROTECTED/HELDOUT_DATA/reference_responses.json\" && echo scorer-can-read", asScorer: true);
            Assert.Contains("scorer-can-read", control);

            var outcome = await platform.ScoreAsync(env, task);

            var explain = $"valid={outcome.Valid} raw={outcome.Raw} reason={outcome.InvalidReason} message={outcome.MessageJson} details={outcome.DetailsJson}";
            Assert.True(outcome.Valid, explain);
            Assert.Contains("through $REBENCH_AGENT_EXEC", outcome.DetailsJson);
            Assert.Contains("DENIED errno=13", outcome.DetailsJson); // EACCES: the relayed code has no protected group
            Assert.DoesNotContain("LEAK", outcome.DetailsJson);
        }
        finally
        {
            await platform.DestroyAsync(env);
        }
    }
}
