using ReBench.Scoring.V1;

namespace ReBench.Cli.Commands;

/// <summary>`rebench humans list`: the imported human baseline rows, their revisions and how reports count them.</summary>
internal static class HumanBaselineCommands
{
    public static Command Build()
    {
        var tasks = new Option<string[]>("--task") { Description = "task_id[:variant]; repeatable", AllowMultipleArgumentsPerToken = true };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var list = new Command("list", "imported human rows: identity, scores, revisions, corrections and how reports count them") { tasks, format };
        list.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!;
            if (fmt is not ("table" or "json")) throw CliException.Bad($"--format '{fmt}': use table or json");
            using var client = CliApp.Client(r);
            var res = await client.Reports.ListHumanBaselinesAsync(new ListHumanBaselinesRequest { Tasks = { r.GetValue(tasks) ?? [] } }, cancellationToken: ct);
            if (fmt == "json") { Console.WriteLine(ReportCommands.Json(res)); return ExitCodes.Ok; }
            if (res.Rows.Count == 0) { Console.WriteLine("(no human baseline rows match)"); return ExitCodes.Ok; }
            static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
            Output.Table(Console.Out, ["attempt", "row", "task", "person", "raw", "normalized", "hours", "budget", "revisions", "reports", "source"],
                res.Rows.Select(h => (IReadOnlyList<string>)[h.AttemptId, h.RowKey.Length == 0 ? "(content)" : h.RowKey, $"{h.Task}:{h.Variant}", h.Person,
                    h.HasRawScore ? N(h.RawScore) : "nan", h.Valid ? N(h.NormalizedScore) : "0 (no valid score)", N(h.Hours), N(h.BudgetHours),
                    h.Revisions.ToString(CultureInfo.InvariantCulture), h.ReportState, h.Source]));
            return ExitCodes.Ok;
        });
        var humans = new Command("humans", "human expert baselines imported with `rebench import humans` (correct rows with `rebench audit correct`)");
        humans.Subcommands.Add(list);
        return humans;
    }
}
