using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ReBench.Tasks.Tests;

/// <summary>
/// Issue 23: the official nanogpt_chat_rl scorer (scoring/score.py, variants main and hidden_score) on the CPU. The
/// GPU parts are stand-ins: the agent's generation.py returns fixed answers (the scorer runs it as the submission's
/// code, as it runs the real one), and the judge is a loopback server speaking the OpenAI chat-completions protocol
/// that ranks answers by a keyword and sleeps per call like a hosted model. What is real is what the GPU run uses:
/// the scorer, the protected copy of evaluation.py (the agent's judge client), the HTTP protocol and the concurrency.
/// </summary>
public sealed class ChatRlMainScorerTests : IAsyncLifetime, IDisposable
{
    private const string Key = "sk-test-judge-key-5f1d0c";
    private static readonly Dictionary<string, int> Rank = new() { ["GREAT"] = 3, ["GOOD"] = 2, ["MEDIOCRE"] = 1, ["BAD"] = 0 };
    private static readonly Regex Outputs = new(@"## Output of model m\n(.*?)\n\n## Output of model M\n(.*?)\n\n", RegexOptions.Singleline);

    private readonly BundleScorer _runner = new();
    private WebApplication? _judge;
    private string _url = "";
    private int _inFlight, _maxInFlight, _calls, _status = 200;
    private readonly ConcurrentBag<string> _authorizations = [];

    // 50 ms per call: 1,024 calls one after another would take 51 s; a hosted judge's ~1-2 s per call would make that
    // 17-34 min, far past the 600 s limit, while 32 in flight make it about a minute.
    private const int CallDelayMs = 50;

    public async Task InitializeAsync()
    {
        var port = TestEnv.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        _judge = builder.Build();
        _judge.MapPost("/v1/chat/completions", (Delegate)JudgeAsync);
        await _judge.StartAsync();
        _url = $"http://127.0.0.1:{port}/v1";
    }

    private async Task<IResult> JudgeAsync(HttpContext context)
    {
        var now = Interlocked.Increment(ref _inFlight);
        try
        {
            Interlocked.Increment(ref _calls);
            for (var seen = Volatile.Read(ref _maxInFlight); now > seen; seen = Volatile.Read(ref _maxInFlight))
                Interlocked.CompareExchange(ref _maxInFlight, now, seen);
            _authorizations.Add(context.Request.Headers.Authorization.ToString());
            var body = await JsonNode.ParseAsync(context.Request.Body);
            await Task.Delay(CallDelayMs);
            if (_status != 200) return Results.Json(new { error = new { message = "refused " + Key } }, statusCode: _status);
            var user = body!["messages"]!.AsArray().Last()!["content"]!.GetValue<string>();
            var match = Outputs.Match(user);
            if (!match.Success) return Results.BadRequest("no outputs in the prompt");
            var (m, bigM) = (Rank[match.Groups[1].Value.Split(' ')[0]], Rank[match.Groups[2].Value.Split(' ')[0]]);
            return Results.Json(new { choices = new[] { new { index = 0, message = new { role = "assistant", content = m > bigM ? "m" : "M" } } } });
        }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    public async Task DisposeAsync()
    {
        if (_judge is not null) await _judge.DisposeAsync();
    }

    public void Dispose() => _runner.Dispose();

    /// <summary>The submission answers GOOD on 3 prompts of 4 and BAD on the rest; gpt2-xl always MEDIOCRE; gpt2-alpaca
    /// GREAT on the first half and MEDIOCRE on the second: win rates 0.75 and 0.375, score 0.5625.</summary>
    private Task<BundleScorer.Run> ScoreAsync(string variant, int prompts, string generation, int? workers = null)
    {
        var task = BundleScorer.Variant("ai_rd_nanogpt_chat_rl", variant);
        var env = $"JUDGE_BASE_URL={_url} JUDGE_API_KEY={Key} JUDGE_MODEL=stand-in-llama " +
                  (workers is { } w ? $"JUDGE_MAX_WORKERS={w} " : "");
        return _runner.ScoreAsync(task with { Scoring = task.Scoring with { Command = env + task.Scoring.Command } },
            files: new Dictionary<string, string>
            {
                ["solution/generation.py"] = generation,
                ["solution/trained_model/config.json"] = "{}",
            },
            prepare: home =>
            {
                var data = Path.Combine(Path.GetDirectoryName(home)!, "protected", "HELDOUT_DATA");
                Directory.CreateDirectory(data);
                File.WriteAllLines(Path.Combine(data, "heldout_prompts.jsonl"),
                    Enumerable.Range(0, prompts).Select(i => JsonSerializer.Serialize(new { prompt = $"Instruction number {i}: say something." })));
                File.WriteAllText(Path.Combine(data, "reference_responses.json"), JsonSerializer.Serialize(new Dictionary<string, string[]>
                {
                    ["gpt2-xl"] = Enumerable.Repeat("MEDIOCRE answer", prompts).ToArray(),
                    ["gpt2-alpaca"] = Enumerable.Range(0, prompts).Select(i => i < prompts / 2 ? "GREAT answer" : "MEDIOCRE answer").ToArray(),
                }));
            });
    }

    // The judge's key is the platform's, not the submission's: the generation code must not find it in its environment.
    private const string Generation = """
        import os
        def generate(model_path, prompts):
            assert "JUDGE_API_KEY" not in os.environ and "REBENCH_PROTECTED" not in os.environ, "leaked into the generation code"
            return ["GOOD answer" if i % 4 else "BAD answer" for i, _ in enumerate(prompts)]
        """;

    [Fact]
    public async Task The_scorer_judges_512_prompts_against_both_references_with_calls_in_flight_together()
    {
        var run = await ScoreAsync("main", 512, Generation);

        Assert.True(run.Outcome.Valid, run.ToString());
        Assert.Equal(0.5625, run.Outcome.Raw, 12);
        Assert.Equal(0.75, run.Message["win_rates"]!["gpt2-xl"]!.GetValue<double>(), 12);
        Assert.Equal(0.375, run.Message["win_rates"]!["gpt2-alpaca"]!.GetValue<double>(), 12);
        Assert.Equal(1024, _calls); // one judge call per prompt and reference model
        // The scorer's 32 workers: at the concurrency seen, 1,024 calls of 2 s each take 1,024 x 2 / 16 = 128 s at most,
        // well inside the 600 s limit (one at a time they would take 34 min).
        Assert.True(_maxInFlight >= 16, $"at most {_maxInFlight} judge calls were in flight together");
        Assert.All(_authorizations, a => Assert.Equal("Bearer " + Key, a));
        Assert.DoesNotContain(Key, run.Stdout + run.Stderr);
        Assert.Equal("stand-in-llama", run.Details["judge_model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Control_one_worker_keeps_one_call_in_flight()
    {
        // The in-flight count can fail: with the workers set to 1 the same scorer never has two calls open.
        var run = await ScoreAsync("main", 32, Generation, workers: 1);

        Assert.True(run.Outcome.Valid, run.ToString());
        Assert.Equal(64, _calls);
        Assert.Equal(1, _maxInFlight);
    }

    [Fact]
    public async Task Hidden_score_keeps_the_number_out_of_the_message()
    {
        var run = await ScoreAsync("hidden_score", 16, Generation);

        Assert.True(run.Outcome.Valid, run.ToString());
        Assert.Equal(0.5625, run.Outcome.Raw, 12);
        Assert.Null(run.Message["score"]);
        Assert.Null(run.Message["win_rates"]);
        Assert.Equal(16, run.Message["n_prompts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Generation_code_that_returns_the_wrong_number_of_answers_is_invalid_with_a_reason()
    {
        var run = await ScoreAsync("main", 16, "def generate(model_path, prompts):\n    return ['x']\n");

        Assert.False(run.Outcome.Valid);
        Assert.Contains("list of 16 str", run.Error);
        Assert.Equal(0, _calls);
    }

    [Fact]
    public async Task A_judge_that_refuses_is_a_scorer_failure_whose_output_never_shows_the_key()
    {
        _status = 401; // a wrong key: not retried, not the submission's fault
        var run = await ScoreAsync("main", 8, Generation);

        Assert.False(run.Outcome.Valid);
        Assert.Equal("scorer_crash", run.Outcome.InvalidReason);
        Assert.Contains("HTTP 401", run.Stderr);
        Assert.DoesNotContain(Key, run.Stdout + run.Stderr + run.Outcome.MessageJson + run.Outcome.DetailsJson);
    }
}
