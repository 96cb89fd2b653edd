using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ReBench.Cli.Plots;
using ReBench.Scoring.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench report score-at-k|budgets|over-time|costs` and `rebench import humans FILE`: the Reports API of the
/// scoring service through the gateway. Exit codes: the table in <see cref="ExitCodes"/> (2 bad input, 4 not found, 5 unavailable, ...).
/// </summary>
internal static class ReportCommands
{
    public const int BadInput = ExitCodes.BadInput;

    private static readonly Option<string> Format = new("--format") { Description = "table, json or csv", DefaultValueFactory = _ => "table" };
    private static readonly Option<string[]> Tasks = new("--task") { Description = "task_id[:variant]; repeatable", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string[]> Agents = new("--agent") { Description = "agent name; repeatable", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string[]> Campaigns = new("--campaign") { Description = "campaign id; repeatable", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<ulong?> Seed = new("--seed") { Description = "bootstrap seed (default 1): same seed, same interval" };
    private static readonly Option<bool> IgnoreCorrections = new("--ignore-corrections")
    {
        Description = "report the attempts as measured, without the corrections recorded since (rebench audit correct)",
    };
    private static readonly Option<bool> Verify = new("--verify")
    {
        Description = "check every row the report reads against the sealed record first; refuse (exit 3, naming the rows) when any differs",
    };
    private static readonly Option<bool> IncludeAudit = new("--include-audit")
    {
        Description = "include audit work (re-executions), left out by default; its rows are marked (audit)",
    };
    private static readonly Option<int> Resamples = new("--resamples") { Description = "bootstrap resamples (default 1000)" };

    public static Command Build()
    {
        var report = new Command("report", "score@k, time budgets, score over time and costs from finished attempts");
        report.Subcommands.Add(ScoreAtK());
        report.Subcommands.Add(Budgets());
        report.Subcommands.Add(OverTime());
        report.Subcommands.Add(CostsCommand());
        return report;
    }

    /// <summary>`rebench import humans FILE`.</summary>
    public static Command Import()
    {
        var file = new Argument<FileInfo>("file") { Description = "CSV: task, raw_score, hours [, variant, budget_hours, hourly_rate_usd, score_points]" };
        var humans = new Command("humans", "import human expert attempts from CSV as attempts of agent 'human' (all rows or none)") { file };
        humans.SetAction((r, ct) => Run(r, async client =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists) throw CliException.Bad($"file '{Parsing.Quote(path.FullName)}' does not exist");
            var res = await client.Reports.ImportHumanBaselinesAsync(new ImportHumanBaselinesRequest
            {
                Csv = await File.ReadAllTextAsync(path.FullName, ct), Source = path.Name,
            }, cancellationToken: ct);
            Console.WriteLine($"batch {res.BatchId}: {res.Imported} attempt(s) imported, {res.AlreadyPresent} already present");
        }));
        var import = new Command("import", "import attempts made outside the platform");
        import.Subcommands.Add(humans);
        return import;
    }

    private static Command ScoreAtK()
    {
        var k = new Option<int>("--k") { Description = "attempts drawn per task", DefaultValueFactory = _ => 1 };
        var budget = new Option<string?>("--budget") { Description = "only attempts with this per-attempt budget: 30m, 2h, 8h" };
        var plot = PlotOption("score@k against k = 1, 2, 4, ... up to --k per agent and budget, 95% intervals shaded");
        var fixedTasks = new Option<bool>("--fixed-tasks") { Description = "bootstrap attempts within each task only (the task set fixed); default: tasks, then attempts" };
        var extrapolate = new Option<bool>("--allow-extrapolation") { Description = "allow k above the attempts run on a task; such rows are marked (+)" };
        var cmd = new Command("score-at-k", "score@k per (agent, per-attempt budget) with a 95% hierarchical bootstrap interval")
            { k, budget, Seed, Resamples, Format, Tasks, Agents, Campaigns, IgnoreCorrections, Verify, IncludeAudit, plot, fixedTasks, extrapolate };
        cmd.SetAction((r, ct) => Run(r, async client =>
        {
            var figure = Figure(r, plot);
            var request = new ScoreAtKRequest
            {
                K = Parsing.K(r.GetValue(k)), BootstrapResamples = r.GetValue(Resamples), Filter = Filter(r),
                FixedTasks = r.GetValue(fixedTasks), AllowExtrapolation = r.GetValue(extrapolate),
            };
            if (r.GetValue(budget) is { } b) request.AttemptBudget = Parsing.Budget(b);
            if (r.GetValue(Seed) is { } seed) request.Seed = seed;
            var res = await client.Reports.ScoreAtKAsync(request, cancellationToken: ct);
            ReportFormat.ScoreRows(Console.Out, r.GetValue(Format)!, res, res.Rows, best: null);
            if (r.GetValue(Format) == "table") await Console.Out.WriteLineAsync($"95% CI: percentile bootstrap over {res.Resampled}, {res.BootstrapResamples} resamples, seed {res.Seed}");
            ReportFormat.Corrections(r.GetValue(Format)!, res.CorrectionsApplied);
            ReportFormat.Unmatched(r.GetValue(Format)!, res.UnmatchedFilters);
            ReportFormat.Inputs(r.GetValue(Format)!, res.Inputs);
            if (figure is not null)
            {
                var answers = new List<ScoreAtKResponse>();
                foreach (var kk in ReportFigures.CurveKs(request.K))
                {
                    if (kk == request.K) { answers.Add(res); continue; }
                    var at = request.Clone();
                    at.K = kk;
                    answers.Add(await client.Reports.ScoreAtKAsync(at, cancellationToken: ct));
                }
                Write(figure, ReportFigures.ScoreAtK(answers));
            }
        }));
        return cmd;
    }

    private static Command Budgets()
    {
        var total = new Option<string[]>("--total")
        {
            Description = "total time budget: 8h, 32h; repeatable (one table each; the figure's x axis)", Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var plot = PlotOption("each agent's best allocation against the total budgets given, 95% intervals shaded");
        var per = new Option<string[]>("--attempt-budget") { Description = "per-attempt budget to compare; repeatable (default: every stored one dividing the total)", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("budgets", "compare ways of spending a total budget: k attempts x per-attempt budget = total")
            { total, per, Seed, Resamples, Format, Tasks, Agents, Campaigns, IgnoreCorrections, Verify, IncludeAudit, plot };
        cmd.SetAction((r, ct) => Run(r, async client =>
        {
            var figure = Figure(r, plot);
            var totals = r.GetValue(total)!.Select(t => Parsing.Budget(t, "--total")).ToList();
            var answers = new List<(TimeSpan, TimeBudgetsResponse)>();
            foreach (var t in totals)
            {
                var request = new TimeBudgetsRequest { TotalBudget = t, BootstrapResamples = r.GetValue(Resamples), Filter = Filter(r) };
                request.AttemptBudgets.AddRange((r.GetValue(per) ?? []).Select(b => Parsing.Budget(b, "--attempt-budget")));
                if (r.GetValue(Seed) is { } seed) request.Seed = seed;
                var res = await client.Reports.TimeBudgetsAsync(request, cancellationToken: ct);
                if (totals.Count > 1 && r.GetValue(Format) == "table") await Console.Out.WriteLineAsync($"total budget {ReportFigures.BudgetText(t.ToTimeSpan())}:");
                ReportFormat.ScoreRows(Console.Out, r.GetValue(Format)!, res, res.Rows, res.BestRowByAgent.Values.ToHashSet());
                ReportFormat.Corrections(r.GetValue(Format)!, res.CorrectionsApplied);
                ReportFormat.Unmatched(r.GetValue(Format)!, res.UnmatchedFilters);
                ReportFormat.Inputs(r.GetValue(Format)!, res.Inputs);
                answers.Add((t.ToTimeSpan(), res));
            }
            if (figure is not null) Write(figure, ReportFigures.Budgets(answers));
        }));
        return cmd;
    }

    private static Command OverTime()
    {
        var budget = new Option<string?>("--budget") { Description = "only attempts with this per-attempt budget" };
        var points = new Option<int>("--points") { Description = "grid points from 0 to the longest budget (default 17)" };
        var steps = new Option<bool>("--steps") { Description = "show the best-so-far steps instead of the paper's log-linear interpolation" };
        var cmd = new Command("over-time", "normalized score against elapsed working time (log-linear interpolation, or --steps)")
            { budget, points, steps, Format, Tasks, Agents, Campaigns, IgnoreCorrections, Verify, IncludeAudit };
        var plot = PlotOption("each agent's average over tasks against working time");
        cmd.Options.Add(plot);
        cmd.SetAction((r, ct) => Run(r, async client =>
        {
            var figure = Figure(r, plot);
            if (r.GetValue(points) < 0) throw CliException.Bad($"--points {r.GetValue(points)}: must be 0 (default) or more");
            var request = new ScoreOverTimeRequest { Points = r.GetValue(points), Filter = Filter(r) };
            if (r.GetValue(budget) is { } b) request.AttemptBudget = Parsing.Budget(b);
            var res = await client.Reports.ScoreOverTimeAsync(request, cancellationToken: ct);
            ReportFormat.OverTime(Console.Out, r.GetValue(Format)!, res, r.GetValue(steps));
            if (figure is not null) Write(figure, ReportFigures.OverTime(res, r.GetValue(steps)));
            ReportFormat.Corrections(r.GetValue(Format)!, res.CorrectionsApplied);
            ReportFormat.Unmatched(r.GetValue(Format)!, res.UnmatchedFilters);
            ReportFormat.Inputs(r.GetValue(Format)!, res.Inputs);
        }));
        return cmd;
    }

    private static Command CostsCommand()
    {
        var cmd = new Command("costs", "cost per attempt and per campaign (model calls; hourly rate for humans)") { Format, Tasks, Agents, Campaigns, Verify, IncludeAudit };
        cmd.SetAction((r, ct) => Run(r, async client =>
        {
            var res = await client.Reports.CostsAsync(new CostsRequest { Filter = Filter(r) }, cancellationToken: ct);
            ReportFormat.Costs(Console.Out, r.GetValue(Format)!, res);
            ReportFormat.Unmatched(r.GetValue(Format)!, res.UnmatchedFilters);
            ReportFormat.Inputs(r.GetValue(Format)!, res.Inputs);
        }));
        return cmd;
    }

    private static ReportFilter Filter(ParseResult r)
    {
        if (r.GetResult(Resamples) is not null && r.GetValue(Resamples) < 1) throw CliException.Bad($"--resamples {r.GetValue(Resamples)}: must be at least 1");
        foreach (var t in r.GetValue(Tasks) ?? []) Parsing.Task(t);
        return new()
    {
        Tasks = { r.GetValue(Tasks) ?? [] },
        Agents = { r.GetValue(Agents) ?? [] },
        CampaignIds = { r.GetValue(Campaigns) ?? [] },
        // Costs has no such option: the Costs report never applies corrections.
        IgnoreCorrections = r.GetResult(IgnoreCorrections) is not null && r.GetValue(IgnoreCorrections),
        Verify = r.GetValue(Verify),
        IncludeAudit = r.GetValue(IncludeAudit),
    };
    }

    private static Option<FileInfo?> PlotOption(string what) => new("--plot") { Description = $"also draw a figure (.svg or .png): {what}" };

    /// <summary>The figure's file, checked before any call is made so a bad name costs no report.</summary>
    private static FileInfo? Figure(ParseResult r, Option<FileInfo?> plot) => r.GetValue(plot) is { } file
        ? ReportFigures.Problem(file) is { } problem ? throw new ArgumentException(problem) : file
        : null;

    private static void Write(FileInfo file, ScottPlot.Plot figure)
    {
        ReportFigures.Save(figure, file);
        Console.Error.WriteLine($"wrote {file.FullName}");
    }

    private static async Task<int> Run(ParseResult r, Func<PlatformClient, Task> body)
    {
        try
        {
            if (r.GetValue(Format) is { } f && f is not ("table" or "json" or "csv"))
                throw new ArgumentException($"--format '{f}': use table, json or csv");
            using var client = CliApp.Client(r);
            await body(client);
            return 0;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return BadInput;
        }
        // Anything else (a platform status, a file) goes to the central exit-code mapping.
    }

    internal static string Json(IMessage message) => ProtoJson.Format(message);

    internal static string Budget(Duration? d)
    {
        if (d is null) return "-";
        var t = d.ToTimeSpan();
        return t.TotalHours >= 1 && t.TotalHours % 1 == 0 ? $"{t.TotalHours:0}h"
            : t.TotalMinutes >= 1 && t.TotalMinutes % 1 == 0 ? $"{t.TotalMinutes:0}m"
            : $"{t.TotalSeconds:0.###}s";
    }
}
