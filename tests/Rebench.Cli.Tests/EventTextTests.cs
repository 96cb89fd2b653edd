using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Tests;

/// <summary>How `rebench attempts events` prints a human's terminal: what was typed and shown, not raw JSON.</summary>
public sealed class EventTextTests
{
    private static string Line(string type, string json, long version = 7) => EventText.Describe(new AttemptEvent
    {
        Version = version, EventType = type, DataJson = json,
        RecordedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero)),
    });

    [Fact]
    public void Terminal_events_are_printed_as_typed_and_shown_text()
    {
        Assert.EndsWith("terminal s1 opened by alice (120x40)",
            Line("terminal_session_opened", """{"sessionId":"s1","rows":40,"cols":120,"principal":"alice"}"""));
        Assert.EndsWith("terminal s1 typed:\n      ls -la",
            Line("terminal_input_recorded", """{"sessionId":"s1","sequence":1,"text":"ls -la\n","bytes":7}"""));
        Assert.EndsWith("terminal s1 shown:\n      a.txt\n      b.txt",
            Line("terminal_output_recorded", """{"sessionId":"s1","sequence":2,"text":"a.txt\nb.txt\n","bytes":12}"""));
        Assert.EndsWith("terminal s1 closed (exit 0, submitted)",
            Line("terminal_session_closed", """{"sessionId":"s1","exitCode":0,"reason":"submitted"}"""));
    }

    [Fact]
    public void Unknown_event_types_are_printed_as_their_json()
    {
        Assert.EndsWith("""{"x":1}""", Line("something_new", """{"x":1}"""));
        Assert.StartsWith("#7    21:00:00.000 something_new", Line("something_new", """{"x":1}"""));
    }
}
