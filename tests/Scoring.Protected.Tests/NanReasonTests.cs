namespace ReBench.Scoring.Protected.Tests;

/// <summary>Each way a scoring run ends without a score gives NaN, its reason, and a message for the agent (real sandbox).</summary>
public sealed class NanReasonTests(ProtectedScoringHost host) : IClassFixture<ProtectedScoringHost>
{
    [Theory]
    [InlineData("invalid", "invalid_submission", "mode")]
    [InlineData("sleep", "timeout", "timeout")]
    [InlineData("oom", "out_of_memory", "out_of_memory")]
    [InlineData("crash", "scorer_crash", "error")]
    public async Task A_failed_run_is_NaN_with_its_reason_and_a_message(string mode, string reason, string messageKey)
    {
        var (env, task) = await host.NewAttemptAsync("nan_reasons");
        await host.AgentRunsAsync(env, $"echo {mode} > mode.txt");

        var score = await host.ScoreAsync(env, task);

        Assert.False(score.Valid);
        Assert.Equal(reason, score.InvalidReason);
        Assert.True(double.IsNaN(score.RawScore) && double.IsNaN(score.NormalizedScore));
        Assert.True(JsonDocument.Parse(score.MessageJson).RootElement.TryGetProperty(messageKey, out _), score.MessageJson);
        Assert.False(score.FlaggedForReview, score.TamperEvidenceJson);
        // The official log records the NaN too.
        if (await host.ReadProtectedAsync(env, "score.log") is { } file) // none where the protected area is read-only
            Assert.Equal("nan", file.TrimEnd('\n').Split('\n')[^1].Split(',')[1]);
    }
}
