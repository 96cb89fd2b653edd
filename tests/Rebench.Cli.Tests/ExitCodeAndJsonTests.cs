using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;
using ReBench.Scoring.V1;

namespace ReBench.Cli.Tests;

/// <summary>The central mapping from what went wrong to an exit code and one line, and the JSON output of messages.</summary>
public sealed class ExitCodeAndJsonTests
{
    [Theory]
    [InlineData(StatusCode.InvalidArgument, ExitCodes.BadInput)]
    [InlineData(StatusCode.OutOfRange, ExitCodes.BadInput)]
    [InlineData(StatusCode.PermissionDenied, ExitCodes.Refused)]
    [InlineData(StatusCode.Unauthenticated, ExitCodes.Refused)]
    [InlineData(StatusCode.FailedPrecondition, ExitCodes.Refused)]
    [InlineData(StatusCode.AlreadyExists, ExitCodes.Refused)]
    [InlineData(StatusCode.NotFound, ExitCodes.NotFound)]
    [InlineData(StatusCode.Unavailable, ExitCodes.Unavailable)]
    [InlineData(StatusCode.ResourceExhausted, ExitCodes.Unavailable)] // rate limited
    [InlineData(StatusCode.DeadlineExceeded, ExitCodes.Unavailable)]
    [InlineData(StatusCode.Internal, ExitCodes.Unavailable)]
    [InlineData(StatusCode.Unknown, ExitCodes.Unavailable)]
    public void Statuses_map_to_the_table(StatusCode status, int exit)
    {
        var (code, message) = ExitCodes.From(new RpcException(new Status(status, "first line\n   at Some.Stack.Frame()\n")));
        Assert.Equal(exit, code);
        Assert.StartsWith("error: ", message);
        Assert.Contains("first line", message);
        Assert.DoesNotContain("\n", message);
        Assert.DoesNotContain("   at ", message);
    }

    [Fact]
    public void Local_failures_map_to_the_table()
    {
        Assert.Equal(ExitCodes.BadInput, ExitCodes.From(CliException.Bad("x")).Code);
        Assert.Equal(ExitCodes.BadInput, ExitCodes.From(new DirectoryNotFoundException("Could not find a part of the path '/nonexistent-dir/x.zip'.")).Code);
        Assert.Equal(ExitCodes.BadInput, ExitCodes.From(new UnauthorizedAccessException("denied")).Code);
        Assert.Equal(ExitCodes.Refused, ExitCodes.From(new CliException(ExitCodes.Refused, "not started")).Code);
        var (code, message) = ExitCodes.From(new InvalidOperationException(new string('x', 5000)));
        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.True(message.Length < 400, $"{message.Length} characters");
    }

    [Fact]
    public void Zero_values_are_kept()
    {
        var response = new ScoreAtKResponse { Rows = { new ScoreAtKRow { Agent = "noop", K = 1, Score = 0, AttemptBudget = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)) } } };
        using var doc = JsonDocument.Parse(ProtoJson.Format(response));
        var row = doc.RootElement.GetProperty("rows")[0];
        Assert.Equal(0, row.GetProperty("score").GetDouble());
        Assert.Equal(0, row.GetProperty("ciLow").GetDouble());
        Assert.Equal(0, row.GetProperty("tasksScored").GetInt32());
        Assert.Equal("300s", row.GetProperty("attemptBudget").GetString());
    }

    [Fact]
    public void Enums_are_lower_case_without_their_prefix()
    {
        var attempt = new Attempt { AttemptId = "a", Status = AttemptStatus.Completed, RawScore = 0, Task = new TaskRef { TaskId = "t", Variant = "v" } };
        using var doc = JsonDocument.Parse(ProtoJson.Format(attempt));
        Assert.Equal("completed", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("rawScore").GetDouble());
        Assert.Equal("v", doc.RootElement.GetProperty("task").GetProperty("variant").GetString());

        using var task = JsonDocument.Parse(ProtoJson.Format(new TaskDescriptor { TaskId = "t", Aggregation = Aggregation.Max }));
        Assert.Equal("max", task.RootElement.GetProperty("aggregation").GetString());
        Assert.False(task.RootElement.GetProperty("lowerIsBetter").GetBoolean());
    }

    [Fact]
    public void Event_data_is_nested_as_an_object()
    {
        var e = new AttemptEvent { AttemptId = "a", Version = 3, EventType = "action_completed", DataJson = "{\"ExitCode\": 0, \"Stdout\": \"hi\\n\"}" };
        using var doc = JsonDocument.Parse(ProtoJson.Format(e));
        var data = doc.RootElement.GetProperty("data");
        Assert.Equal(JsonValueKind.Object, data.ValueKind);
        Assert.Equal(0, data.GetProperty("ExitCode").GetInt32());
        Assert.Equal("hi\n", data.GetProperty("Stdout").GetString());
        Assert.False(doc.RootElement.TryGetProperty("dataJson", out _));
        // Data that is not JSON stays as its text.
        using var odd = JsonDocument.Parse(ProtoJson.Format(new AttemptEvent { DataJson = "not json" }));
        Assert.Equal("not json", odd.RootElement.GetProperty("data").GetString());
    }
}
