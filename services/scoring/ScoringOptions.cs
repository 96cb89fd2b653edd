using System.ComponentModel.DataAnnotations;

namespace ReBench.Scoring;

/// <summary>
/// Configuration section "Scoring", bound once and validated at start (ValidateOnStart): a bad value stops the
/// service with a message naming the key, rather than surfacing at the first score or the first database call.
/// </summary>
public sealed class ScoringOptions : IValidatableObject
{
    public const string Section = "Scoring";

    /// <summary>The task bundles; empty: the tasks/ folder beside RE-Bench.sln above the service (a checkout).</summary>
    public string? TasksRoot { get; set; }

    /// <summary>
    /// Where variant folders composed from layers are written (tasks/README.md, "Layers"); the sandbox copies from them,
    /// so where it runs apart (containers) this is a volume both see at this path. Empty: a fresh temporary directory.
    /// </summary>
    public string? LayersRoot { get; set; }

    /// <summary>Operator-provided assets, &lt;AssetsRoot&gt;/&lt;task_id&gt;/...; empty: none configured (see Assets/AssetVerifier.cs).</summary>
    public string? AssetsRoot { get; set; }

    /// <summary>PostgreSQL schema of the results store and score-log records, where ConnectionStrings:Postgres is set.</summary>
    [Required, RegularExpression("^[A-Za-z_][A-Za-z0-9_]{0,62}$", ErrorMessage = "Scoring:Schema must be a PostgreSQL identifier (letters, digits, _; at most 63)")]
    public string Schema { get; set; } = "scoring";

    /// <summary>The interpreter that runs Task Standard families inside the environment; empty: python3.</summary>
    public string? TaskStandardPython { get; set; }

    /// <summary>The interpreter as the Task Standard bridge runs it.</summary>
    public string Python => TaskStandardPython is { Length: > 0 } p ? p : "python3";

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        // The catalog would fail the start too, later and after the host has begun; a set root is checked here first.
        if (!string.IsNullOrWhiteSpace(TasksRoot) && !Directory.Exists(TasksRoot))
        {
            yield return new ValidationResult("Scoring:TasksRoot is set but is not an existing directory", [nameof(TasksRoot)]);
        }
        if (!string.IsNullOrWhiteSpace(LayersRoot) && !Directory.Exists(LayersRoot))
        {
            yield return new ValidationResult("Scoring:LayersRoot is set but is not an existing directory", [nameof(LayersRoot)]);
        }
        // A blank interpreter name would be run as a command and fail every Task Standard score.
        if (TaskStandardPython is { Length: > 0 } p && string.IsNullOrWhiteSpace(p))
        {
            yield return new ValidationResult("Scoring:TaskStandardPython must not be blank", [nameof(TaskStandardPython)]);
        }
    }
}
