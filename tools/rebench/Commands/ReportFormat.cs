using System.Text;
using Google.Protobuf;
using ReBench.Scoring.V1;

namespace ReBench.Cli.Commands;

/// <summary>The reports as tables, JSON (the response message as protobuf JSON) or CSV (one header row).</summary>
internal static class ReportFormat
{
    private static string N(double v) => double.IsNaN(v) ? "NaN" : v.ToString("0.000", CultureInfo.InvariantCulture);
    private static string Raw(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>score@k rows; <paramref name="best"/> marks each agent's best allocation in the budgets view.</summary>
    public static void ScoreRows(TextWriter w, string format, IMessage response, IReadOnlyList<ScoreAtKRow> rows, ISet<int>? best)
    {
        switch (format)
        {
            case "json":
                w.WriteLine(ReportCommands.Json(response));
                return;
            case "csv":
                w.WriteLine("agent,attempt_budget_seconds,k,score,ci_low,ci_high,tasks_scored,attempts,missing_tasks,min_attempts_per_task,extrapolated,audit_work" + (best is null ? "" : ",best"));
                for (var i = 0; i < rows.Count; i++)
                {
                    var r = rows[i];
                    w.WriteLine(string.Join(",", Csv(r.Agent), Raw(r.AttemptBudget.ToTimeSpan().TotalSeconds), r.K, Raw(r.Score), Raw(r.CiLow),
                        Raw(r.CiHigh), r.TasksScored, r.Attempts, Csv(string.Join(";", r.MissingTasks)), r.MinAttemptsPerTask, r.Extrapolated ? "yes" : "no", r.AuditWork ? "yes" : "no")
                        + (best is null ? "" : best.Contains(i) ? ",yes" : ",no"));
                }
                return;
            default:
                var headers = new List<string> { "agent", "per attempt", "k", "score@k", "95% CI", "tasks", "attempts", "missing tasks" };
                if (best is not null) headers.Add("best");
                Output.Table(w, headers, rows.Select((r, i) =>
                {
                    var cells = new List<string>
                    {
                        Audit(r.Agent, r.AuditWork), ReportCommands.Budget(r.AttemptBudget), r.K.ToString(CultureInfo.InvariantCulture) + (r.Extrapolated ? " (+)" : ""), N(r.Score),
                        $"[{N(r.CiLow)}, {N(r.CiHigh)}]", r.TasksScored.ToString(CultureInfo.InvariantCulture),
                        r.Attempts.ToString(CultureInfo.InvariantCulture), r.MissingTasks.Count == 0 ? "-" : string.Join(" ", r.MissingTasks),
                    };
                    if (best is not null) cells.Add(best.Contains(i) ? "*" : "");
                    return (IReadOnlyList<string>)cells;
                }));
                if (rows.Count == 0) w.WriteLine("(no completed attempts match)");
                if (rows.Any(r => r.Extrapolated)) w.WriteLine("(+) k is more than the attempts run on some task: extrapolated");
                return;
        }
    }

    /// <summary>
    /// Whether the inputs were checked against the sealed record, and audit work left out or included: after a table
    /// on stdout, to stderr beside CSV; JSON carries it as inputs.
    /// </summary>
    public static void Inputs(string format, ReportInputs? inputs)
    {
        if (format == "json" || inputs is null || inputs.Statement.Length == 0) return;
        (format == "csv" ? Console.Error : Console.Out).WriteLine(inputs.Statement);
    }

    /// <summary>" (audit)" after the agent of a row that includes audit work.</summary>
    private static string Audit(string agent, bool auditWork) => auditWork ? agent + " (audit)" : agent;

    /// <summary>Filter values that matched no stored result: after a table on stdout, to stderr beside CSV; JSON carries unmatched_filters.</summary>
    public static void Unmatched(string format, IReadOnlyCollection<string> unmatched)
    {
        if (format == "json" || unmatched.Count == 0) return;
        var w = format == "csv" ? Console.Error : Console.Out;
        w.WriteLine($"no stored results for: {string.Join(", ", unmatched)} (check the spelling: rebench tasks list, rebench campaign list)");
    }

    /// <summary>
    /// The corrections that changed a report's input: after a table on stdout, to stderr beside CSV (which stays one
    /// table); JSON already carries them as corrections_applied.
    /// </summary>
    public static void Corrections(string format, IReadOnlyCollection<AppliedCorrection> applied)
    {
        if (format == "json" || applied.Count == 0) return;
        var w = format == "csv" ? Console.Error : Console.Out;
        w.WriteLine($"corrections applied ({applied.Count}; --ignore-corrections for the attempts as measured):");
        foreach (var c in applied)
            w.WriteLine($"  attempt {c.AttemptId} #{c.Number} {c.Kind} by {c.Actor}: {c.Effect} ({c.Reason})");
    }

    /// <param name="steps">true: the best-so-far step; false: the paper's log-linear interpolation (both are in json and csv).</param>
    public static void OverTime(TextWriter w, string format, ScoreOverTimeResponse res, bool steps = false)
    {
        if (format == "json") { w.WriteLine(ReportCommands.Json(res)); return; }
        if (format == "csv")
        {
            w.WriteLine("agent,task,elapsed_seconds,log_linear,best_so_far,attempts,audit_work");
            foreach (var s in res.Series)
                foreach (var p in s.Points)
                    w.WriteLine(string.Join(",", Csv(s.Agent), Csv(s.Task), Raw(p.Elapsed.ToTimeSpan().TotalSeconds), Raw(p.LogLinear), Raw(p.BestSoFar), s.Attempts, s.AuditWork ? "yes" : "no"));
            return;
        }
        // Table: one row per agent's average (task "all"), one column per grid time.
        var averages = res.Series.Where(s => s.Task.Length == 0).ToList();
        if (averages.Count == 0) { w.WriteLine("(no completed attempts match)"); return; }
        w.WriteLine(steps ? "best-so-far normalized score (steps), averaged over attempts then tasks"
            : "normalized score, log-linear interpolation between logged scores (paper Fig. 4), averaged over attempts then tasks");
        var times = averages[0].Points.Select(p => ReportCommands.Budget(p.Elapsed)).ToList();
        Output.Table(w, ["agent", "attempts", .. times], averages.Select(s =>
            (IReadOnlyList<string>)[Audit(s.Agent, s.AuditWork), s.Attempts.ToString(CultureInfo.InvariantCulture), .. s.Points.Select(p => N(steps ? p.BestSoFar : p.LogLinear))]));
    }

    public static void Costs(TextWriter w, string format, CostsResponse res)
    {
        if (format == "json") { w.WriteLine(ReportCommands.Json(res)); return; }
        if (format == "csv")
        {
            w.WriteLine("attempt,campaign,task,agent,status,cost_usd,model_calls,working_hours,basis,audit_work");
            foreach (var a in res.Attempts)
                w.WriteLine(string.Join(",", a.AttemptId, a.CampaignId, Csv(a.Task), Csv(a.Agent), a.Status, Raw(a.CostUsd), a.ModelCalls,
                    Raw(a.WorkingHours), a.Basis, a.AuditWork ? "yes" : "no"));
            return;
        }
        Output.Table(w, ["attempt", "task", "agent", "status", "cost (USD)", "model calls", "hours", "basis"], res.Attempts.Select(a =>
            (IReadOnlyList<string>)[a.AttemptId, a.Task, Audit(a.Agent, a.AuditWork), a.Status, Usd(a.CostUsd), a.ModelCalls.ToString(CultureInfo.InvariantCulture),
                a.WorkingHours.ToString("0.00", CultureInfo.InvariantCulture), a.Basis]));
        w.WriteLine();
        Output.Table(w, ["campaign", "attempts", "cost (USD)", "model calls", "hours"], res.Campaigns.Select(c =>
            (IReadOnlyList<string>)[c.CampaignId + (c.AuditWork ? " (audit)" : ""), c.Attempts.ToString(CultureInfo.InvariantCulture), Usd(c.CostUsd),
                c.ModelCalls.ToString(CultureInfo.InvariantCulture), c.WorkingHours.ToString("0.00", CultureInfo.InvariantCulture)]));
        w.WriteLine($"total: {Usd(res.TotalUsd)} USD");
    }

    private static string Usd(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    public static string Csv(string s)
    {
        if (s.IndexOfAny([',', '"', '\n', '\r']) < 0) return s;
        return new StringBuilder("\"").Append(s.Replace("\"", "\"\"")).Append('"').ToString();
    }
}
