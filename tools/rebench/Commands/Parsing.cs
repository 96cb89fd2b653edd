using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

internal static class Parsing
{
    /// <summary>"task_id" or "task_id:variant".</summary>
    public static TaskRef Task(string spec)
    {
        var parts = spec.Split(':', 2);
        return new TaskRef { TaskId = parts[0], Variant = parts.Length > 1 ? parts[1] : "" };
    }

    /// <summary>"90s", "3m", "2h", or a TimeSpan like "00:03:00".</summary>
    public static Duration Budget(string text)
    {
        text = text.Trim();
        TimeSpan span;
        if (text.Length > 1 && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            span = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => throw new ArgumentException($"budget '{text}': use a number with s, m or h (e.g. 3m)"),
            };
        }
        else if (!TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out span))
        {
            throw new ArgumentException($"budget '{text}': use a number with s, m or h (e.g. 3m)");
        }
        return Duration.FromTimeSpan(span);
    }

    public static AttemptStatus Status(string? text) => text?.ToLowerInvariant() switch
    {
        null or "" => AttemptStatus.Unspecified,
        "scheduled" => AttemptStatus.Scheduled,
        "running" => AttemptStatus.Running,
        "completed" => AttemptStatus.Completed,
        "failed" => AttemptStatus.Failed,
        "cancelled" => AttemptStatus.Cancelled,
        _ => throw new ArgumentException($"status '{text}': use scheduled, running, completed, failed or cancelled"),
    };
}
