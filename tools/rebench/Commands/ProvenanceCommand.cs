using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench diff-provenance A B`: what attempt_started recorded for two attempts, field by field, and the fields that
/// differ. Exit 0 when comparable (every compared field equal), 1 when something differs, 2 bad input (unknown or
/// not yet started attempt).
/// </summary>
public static class ProvenanceCommand
{
    public const int Comparable = ExitCodes.Ok, Differs = ExitCodes.CheckFailed, BadInput = ExitCodes.BadInput;

    /// <summary>Shown when they differ, but they do not make two attempts incomparable: the machine's name.</summary>
    public static readonly HashSet<string> Informational = ["node"];

    public static Command Build()
    {
        var a = new Argument<string>("attempt-a");
        var b = new Argument<string>("attempt-b");
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var all = new Option<bool>("--all") { Description = "list every field, not only those that differ" };
        var command = new Command("diff-provenance", "compare two attempts' provenance; exit 0 comparable, 1 differs, 2 bad input, 4 not found") { a, b, format, all };
        command.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("table" or "json")) return Fail($"--format must be table or json, got '{fmt}'");
            using var client = CliApp.Client(r);
            var pa = await LoadAsync(client, r.GetValue(a)!, ct);
            var pb = await LoadAsync(client, r.GetValue(b)!, ct);
            var rows = Compare(Fields(pa), Fields(pb));
            var differing = rows.Where(x => !x.Same).ToList();
            var comparable = differing.All(x => Informational.Contains(x.Field));
            var shown = r.GetValue(all) ? rows : differing;
            if (fmt == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    a = r.GetValue(a), b = r.GetValue(b), comparable, identical = differing.Count == 0,
                    fields = shown.Select(x => new { field = x.Field, a = x.A, b = x.B, same = x.Same, informational = Informational.Contains(x.Field) }),
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                if (shown.Count > 0)
                    Output.Table(Console.Out, ["field", "A", "B", ""], shown.Select(x => (IReadOnlyList<string>)
                        [x.Field, x.A, x.B, x.Same ? "" : Informational.Contains(x.Field) ? "differs (informational)" : "DIFFERS"]));
                Console.WriteLine(differing.Count == 0 ? "identical provenance"
                    : comparable ? "comparable: only informational fields differ" : $"{differing.Count(x => !Informational.Contains(x.Field))} field(s) differ");
            }
            return comparable ? Comparable : Differs;
        });
        return command;
    }

    public sealed record Row(string Field, string A, string B)
    {
        public bool Same => A == B;
    }

    public static List<Row> Compare(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Keys.Union(b.Keys).Select(k => new Row(k, a.GetValueOrDefault(k, "(absent)"), b.GetValueOrDefault(k, "(absent)"))).ToList();

    /// <summary>The provenance as ordered field/value pairs; each generation setting is its own field.</summary>
    public static IReadOnlyDictionary<string, string> Fields(Provenance p)
    {
        var c = CultureInfo.InvariantCulture;
        var fields = new Dictionary<string, string>
        {
            ["task"] = p.TaskId, ["variant"] = p.Variant, ["task_version"] = p.TaskVersion, ["bundle_digest"] = p.BundleDigest,
            ["scorer_digest"] = p.ScorerDigest, ["agent"] = p.Agent, ["agent_version"] = p.AgentVersion, ["model"] = p.Model,
            ["platform_version"] = p.PlatformVersion, ["sandbox_driver"] = p.SandboxDriver, ["node"] = p.Node,
            ["gpu_model"] = p.GpuModel, ["gpu_count"] = p.GpuCount.ToString(c), ["gpu_driver_version"] = p.GpuDriverVersion,
            ["time_budget_seconds"] = p.TimeBudgetSeconds.ToString(c),
            ["token_budget"] = p.TokenBudget == 0 ? "none" : p.TokenBudget.ToString(c),
            ["cost_budget_usd"] = p.CostBudgetUsd == 0 ? "none" : p.CostBudgetUsd.ToString(c),
        };
        foreach (var (k, v) in p.GenerationSettings.OrderBy(kv => kv.Key, StringComparer.Ordinal)) fields["setting." + k] = v;
        return fields;
    }

    private static async Task<Provenance> LoadAsync(PlatformClient client, string id, CancellationToken ct)
    {
        var attempt = await client.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = id }, cancellationToken: ct);
        return attempt.Provenance ?? throw new CliException(ExitCodes.Refused, $"attempt {id} has not started: it has no provenance yet");
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }
}
