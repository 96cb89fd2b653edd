using System.Diagnostics;

namespace ReBench.Scoring.Tests;

/// <summary>The shipped ai_rd_triton_cumsum bundle, and a way to run its scorer with the system Python.</summary>
public static class CumsumTask
{
    public static string Dir => Path.Combine(Testing.TestEnv.RepoRoot, "tasks", "ai_rd_triton_cumsum");

    /// <summary>The cpu variant's scoring folder as the loader lays it out (shared files such as judged_process.py included).</summary>
    public static string ScoringDir { get; } =
        Catalog.BundleLoader.Load(Dir).Bundle!.Variants.Single(v => v.Name == "cpu").Folders.Scoring;

    public const string WrongSolution = """
        import numpy as np
        print("a solution may print to stdout without breaking the result line")

        def prefix_sum(x):
            return np.cumsum(x, dtype=np.int32)  # the plain prefix sum, without the parity rule
        """;

    public sealed record Result(JsonElement Line, string Stdout, string Stderr, int ExitCode)
    {
        public double? Score => Line.GetProperty("score").ValueKind == JsonValueKind.Null ? null : Line.GetProperty("score").GetDouble();
        public JsonElement Message => Line.GetProperty("message");
        public JsonElement Details => Line.GetProperty("details");
    }

    /// <summary>Runs the cpu variant's score.py on the solution file; the result is the JSON of its last stdout line.</summary>
    public static async Task<Result> ScoreAsync(string solutionPath)
    {
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { Path.Combine(ScoringDir, "score.py"), solutionPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, $"the scorer printed nothing; stderr: {await stderr}");
        return new Result(JsonDocument.Parse(lines[^1]).RootElement, await stdout, await stderr, process.ExitCode);
    }
}

public sealed class CumsumScorerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rebench-solution-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_reference_solution_is_valid_and_much_faster_than_the_starting_one()
    {
        var start = await CumsumTask.ScoreAsync(Path.Combine(CumsumTask.Dir, "agent", "solution.py"));
        var reference = await CumsumTask.ScoreAsync(Path.Combine(CumsumTask.Dir, "reference", "solution.py"));

        foreach (var result in new[] { start, reference })
        {
            Assert.Equal(0, result.ExitCode);
            Assert.NotNull(result.Score);
            Assert.True(double.IsFinite(result.Score!.Value));
            Assert.True(result.Message.GetProperty("correct").GetBoolean());
            // A tolerance, not rounding to 3 places: two values 1e-5 apart can round to either side of a last digit.
            Assert.Equal(Math.Log(result.Message.GetProperty("time_ms").GetDouble()), result.Score.Value, 1e-3);
            Assert.True(result.Details.GetProperty("timings_ms").GetArrayLength() >= 3);
        }
        // ln 10 apart at least: the task's room for improvement is real even on a busy machine.
        Assert.True(start.Score - reference.Score > Math.Log(10), $"start {start.Score}, reference {reference.Score}");
        Assert.NotEqual(start.Details.GetProperty("seed").GetUInt64(), reference.Details.GetProperty("seed").GetUInt64());
        Assert.Empty(Directory.GetDirectories(CumsumTask.ScoringDir, "__pycache__"));
    }

    [Fact]
    public async Task A_wrong_solution_scores_null_with_a_message()
    {
        var path = Write("solution.py", CumsumTask.WrongSolution);

        var result = await CumsumTask.ScoreAsync(path);

        Assert.Equal(0, result.ExitCode);
        Assert.Null(result.Score);
        Assert.Contains("wrong values", result.Message.GetProperty("error").GetString());
        Assert.Contains("may print to stdout", result.Stderr);
        Assert.DoesNotContain("may print to stdout", result.Stdout);
    }

    [Theory]
    [InlineData("import numpy as np\ndef prefix_sum(x):\n    raise RuntimeError('boom')\n", "raised RuntimeError: boom")]
    [InlineData("def other(x):\n    return x\n", "does not define a function prefix_sum")]
    [InlineData("import numpy as np\ndef prefix_sum(x):\n    return x.astype(np.int64)\n", "dtype int64")]
    [InlineData("import sys\nsys.exit(0)\n", "importing")]
    [InlineData("def prefix_sum(x):\n    return list(x)\n", "returned list")]
    public async Task A_failing_solution_scores_null_and_the_message_says_why(string solution, string error)
    {
        var result = await CumsumTask.ScoreAsync(Write("solution.py", solution));

        Assert.Null(result.Score);
        Assert.Contains(error, result.Message.GetProperty("error").GetString());
    }

    /// <summary>The cheat for this task: an answer computed once and returned again is wrong for the next input.</summary>
    [Fact]
    public async Task A_solution_returning_a_cached_answer_is_caught()
    {
        var result = await CumsumTask.ScoreAsync(Write("solution.py", """
            import numpy as np
            _cache = []

            def prefix_sum(x):
                if not _cache:
                    positive = (x > 0).view(np.int8)
                    parity = np.bitwise_xor.accumulate(positive) ^ positive
                    _cache.append(np.cumsum(np.where(parity.view(np.bool_), x, 0), dtype=np.int32))
                return _cache[0]
            """));

        Assert.Equal(0, result.ExitCode);
        Assert.Null(result.Score);
        Assert.Contains("wrong values", result.Message.GetProperty("error").GetString());
    }

    /// <summary>
    /// The submission runs in a worker process: the expected answers are in no frame it can walk to, and the scorer
    /// (same user) is not dumpable, so its memory cannot be read through /proc.
    /// </summary>
    [Theory]
    [InlineData("""
        import gc, sys
        def prefix_sum(x):
            f = sys._getframe(1)
            while f is not None:
                if "expected" in f.f_locals:
                    return f.f_locals["expected"]
                f = f.f_back
            raise RuntimeError("no expected answer in this process")
        """, "no expected answer in this process")]
    [InlineData("""
        import os
        def prefix_sum(x):
            with open(f"/proc/{os.getppid()}/mem", "rb") as f:
                f.read(1)
            raise RuntimeError("read the scorer's memory")
        """, "OSError")]
    [InlineData("""
        import os
        def prefix_sum(x):
            os._exit(3)
        """, "exited (code 3)")]
    [InlineData("""
        import os, socket, time
        def prefix_sum(x):
            for fd in [int(fd) for fd in os.listdir("/proc/self/fd")]:  # the worker's connection to the scorer
                if os.path.exists(f"/proc/self/fd/{fd}") and os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    s = socket.socket(fileno=fd)
                    s.shutdown(socket.SHUT_RDWR)
                    s.detach()  # shut down, still open
            time.sleep(100)
        """, "closed its connection to the scorer")]
    public async Task The_scorer_state_is_out_of_the_submissions_reach(string solution, string error)
    {
        var result = await CumsumTask.ScoreAsync(Write("solution.py", solution));

        Assert.Equal(0, result.ExitCode);
        Assert.Null(result.Score);
        Assert.Contains(error, result.Message.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_missing_solution_file_scores_null()
    {
        var result = await CumsumTask.ScoreAsync(Path.Combine(_dir, "absent.py"));

        Assert.Null(result.Score);
        Assert.Contains("does not exist", result.Message.GetProperty("error").GetString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
