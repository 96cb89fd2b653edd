using Google.Protobuf.WellKnownTypes;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// Local checks of command-line values, made before anything is sent: a bad value exits 2 (<see cref="CliException"/>)
/// with a message that quotes a bounded part of it.
/// </summary>
public static class Parsing
{
    /// <summary>The orchestrator's limits (services/orchestrator/Campaigns/CampaignCreation.cs), checked here first.</summary>
    public const int MaxK = 100;
    public static readonly TimeSpan MaxBudget = TimeSpan.FromDays(7);

    /// <summary>Correction kinds the platform knows: three change reports, <c>note</c> is a record (its reason is free text).</summary>
    public static readonly string[] CorrectionKinds = ["exclude_from_reports", "score_invalid", "reinstate", "note"];

    /// <summary>"task_id" or "task_id:variant", the form every table prints.</summary>
    public static TaskRef Task(string spec)
    {
        var parts = spec.Trim().Split(':', 2);
        if (parts[0].Length == 0 || (parts.Length > 1 && parts[1].Length == 0))
            throw CliException.Bad($"task '{Quote(spec)}': use task_id or task_id:variant");
        return new TaskRef { TaskId = parts[0], Variant = parts.Length > 1 ? parts[1] : "" };
    }

    /// <summary>"90s", "3m", "2h", or a TimeSpan like "00:03:00"; more than zero and at most 7 days.</summary>
    public static Duration Budget(string text, string option = "--budget")
    {
        var t = text.Trim();
        TimeSpan span;
        var ok = false;
        span = default;
        if (t.Length > 1 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n))
        {
            var unit = char.ToLowerInvariant(t[^1]) switch { 's' => 1.0, 'm' => 60.0, 'h' => 3600.0, _ => 0 };
            if (unit > 0 && Math.Abs(n * unit) < MaxBudget.TotalSeconds * 2)
            {
                span = TimeSpan.FromSeconds(n * unit);
                ok = true;
            }
        }
        else if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out span)) ok = true;
        if (!ok) throw CliException.Bad($"{option} '{Quote(text)}': use a number with s, m or h (e.g. 90s, 3m, 2h)");
        if (span <= TimeSpan.Zero) throw CliException.Bad($"{option} '{Quote(text)}': must be more than zero");
        if (span > MaxBudget) throw CliException.Bad($"{option} '{Quote(text)}': at most {MaxBudget.TotalDays:0} days");
        return Duration.FromTimeSpan(span);
    }

    public static int K(int k) => k is >= 1 and <= MaxK ? k : throw CliException.Bad($"--k {k}: must be from 1 to {MaxK}");

    public static AttemptStatus Status(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => AttemptStatus.Unspecified,
        "scheduled" => AttemptStatus.Scheduled,
        "running" => AttemptStatus.Running,
        "completed" => AttemptStatus.Completed,
        "failed" => AttemptStatus.Failed,
        "cancelled" => AttemptStatus.Cancelled,
        _ => throw CliException.Bad($"--status '{Quote(text)}': use scheduled, running, completed, failed or cancelled"),
    };

    public static string CorrectionKind(string kind) => CorrectionKinds.Contains(kind)
        ? kind
        : throw CliException.Bad($"--kind '{Quote(kind)}': use one of {string.Join(", ", CorrectionKinds)} (a note's --reason is free text)");

    /// <summary>A scripted agent's script: the file exists and every non-empty line is a JSON object.</summary>
    public static string Script(FileInfo file)
    {
        if (!file.Exists) throw CliException.Bad($"--script: file '{Quote(file.FullName)}' does not exist");
        var text = File.ReadAllText(file.FullName);
        var lines = text.Split('\n');
        var actions = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
                actions++;
            }
            catch (JsonException)
            {
                throw CliException.Bad($"--script {file.Name}: line {i + 1} is not a JSON object (JSON Lines: one action per line, e.g. {{\"run\": \"ls\"}})");
            }
        }
        if (actions == 0) throw CliException.Bad($"--script {file.Name}: no actions (JSON Lines: one action per line)");
        return text;
    }

    /// <summary>A long or odd value is shown cut: messages quote at most 60 characters of it.</summary>
    public static string Quote(string? value)
    {
        var v = (value ?? "").ReplaceLineEndings(" ");
        return v.Length > 60 ? v[..60] + "…" : v;
    }
}
