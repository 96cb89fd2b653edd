using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReBench.Orchestrator.Attempts;

/// <summary>
/// A scaffold's own account of a decision (e.g. one node of AIDE's solution tree, or the tree's final summary), so an
/// auditor can see why a solution was chosen. It changes nothing about the attempt: it only completes its step.
/// </summary>
/// <param name="Kind">What the note is, e.g. aide_node, aide_tree.</param>
/// <param name="Json">The note, a JSON object as the driver wrote it.</param>
public sealed record AgentNoteRecorded(Guid AttemptId, string StepId, string Kind, string Json, string Actor, DateTimeOffset At);

/// <summary>Rules of <see cref="AgentNoteRecorded"/>, kept apart from <see cref="AttemptDecider"/> (one feature per file).</summary>
public static partial class AgentNotes
{
    public const int MaxJsonChars = 64 * 1024;
    public const int MaxKindChars = 64;

    [GeneratedRegex("^[a-z0-9_]+$")]
    private static partial Regex KindPattern();

    /// <summary>What is wrong with a note's kind and body, or null.</summary>
    public static string? Problem(string kind, string json)
    {
        if (kind.Length == 0 || kind.Length > MaxKindChars || !KindPattern().IsMatch(kind))
            return $"kind must be 1-{MaxKindChars} characters of [a-z0-9_], got '{(kind.Length > 80 ? kind[..80] + "…" : kind)}'";
        if (json.Length > MaxJsonChars) return $"json must be at most {MaxJsonChars} characters, got {json.Length}";
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? null : $"json must be a JSON object, got a {doc.RootElement.ValueKind}";
        }
        catch (JsonException e)
        {
            return $"json is not valid JSON: {e.Message}";
        }
    }

    /// <summary>A step already recorded records nothing again (a retried note); otherwise the attempt must be running.</summary>
    public static object[] Record(AttemptState s, AgentNoteRecorded note, DateTimeOffset now)
    {
        if (AttemptDecider.Step(s, note.StepId) == StepStatus.Done) return [];
        AttemptDecider.EnsureActive(s, now);
        return [note];
    }
}
