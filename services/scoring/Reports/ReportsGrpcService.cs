using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Reports;

/// <summary>The Reports API: validates, reads the results store, and hands the numbers to the pure report functions.</summary>
public sealed class ReportsGrpcService(IResultsStore store, HumanBaselinesApi humans, TaskCatalog catalog, ISealedRecord sealedRecord)
    : V1.Reports.ReportsBase
{
    /// <summary>Most rows one report checks against the sealed record (one batched call).</summary>
    public const int MaxVerifiedRows = 5000;

    private const int MaxK = 10_000;
    private const int MaxPoints = 1_000;
    private const int MaxFilterItems = 1_000;
    private const int MaxNameLength = 200;

    public override async Task<ScoreAtKResponse> ScoreAtK(ScoreAtKRequest request, ServerCallContext context)
    {
        if (request.K < 1 || request.K > MaxK) throw Guard.Invalid($"k must be between 1 and {MaxK}, got {request.K}");
        var bootstrap = Bootstrap(request.HasSeed ? request.Seed : null, request.BootstrapResamples) with { FixedTasks = request.FixedTasks };
        var budget = request.AttemptBudget is null ? (double?)null : Seconds(request.AttemptBudget, "attempt_budget");
        // Every budget is read: a human row with score-over-time points also counts at shorter budgets (HumanBudgets).
        var (corrected, inputs) = await ReadAsync(request.Filter, null, context.CancellationToken);
        var results = HumanBudgets.ForScoreAtK(corrected.Results, budget);
        var tasks = Reports.ScoreAtK.TasksOf(results);
        var response = new ScoreAtKResponse
        {
            Seed = bootstrap.Seed, BootstrapResamples = bootstrap.Resamples, Tasks = { tasks }, Resampled = bootstrap.Levels, Inputs = inputs,
            CorrectionsApplied = { ToProto(corrected.Touching(Completed(HumanBudgets.ForScoreAtK(corrected.Measured, budget)))) },
        };
        var rows = Reports.ScoreAtK.Rows(results, request.K, bootstrap, tasks);
        // No silent extrapolation: E[max of k] with k above the attempts run reuses attempts more often than there are.
        if (!request.AllowExtrapolation && rows.FirstOrDefault(r => r.Extrapolated) is { } beyond)
        {
            var task = beyond.PerTask.First(t => t.Attempts == beyond.MinAttemptsPerTask).Task;
            throw Guard.FailedPrecondition(
                $"k={request.K} is more than the {beyond.MinAttemptsPerTask} attempts agent '{beyond.Agent}' has at budget " +
                $"{Format(beyond.BudgetSeconds)} on task {task}: score@k would extrapolate; ask with allow_extrapolation " +
                "(rebench report score-at-k --allow-extrapolation) to get such rows marked, or lower k");
        }
        response.Rows.AddRange(rows.Select(r => ToProto(r, results)));
        response.UnmatchedFilters.AddRange(await UnmatchedAsync(request.Filter, context.CancellationToken));
        return response;
    }

    public override async Task<TimeBudgetsResponse> TimeBudgets(TimeBudgetsRequest request, ServerCallContext context)
    {
        if (request.TotalBudget is null) throw Guard.Invalid("total_budget is required");
        var total = Seconds(request.TotalBudget, "total_budget");
        var budgets = request.AttemptBudgets.Select((b, i) => Seconds(b, $"attempt_budgets[{i}]")).ToList();
        foreach (var b in budgets.Where(b => Reports.TimeBudgets.KFor(total, b) is null))
            throw Guard.Invalid($"attempt budget {Format(b)} does not divide total_budget {Format(total)} into a whole number of attempts");
        var bootstrap = Bootstrap(request.HasSeed ? request.Seed : null, request.BootstrapResamples);
        var (corrected, inputs) = await ReadAsync(request.Filter, null, context.CancellationToken);
        var report = Reports.TimeBudgets.Compare(corrected.Results, total, budgets.Count == 0 ? null : budgets, bootstrap);
        var response = new TimeBudgetsResponse
        {
            TotalBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(total)),
            Seed = bootstrap.Seed,
            BootstrapResamples = bootstrap.Resamples,
            Tasks = { report.Tasks },
            Inputs = inputs,
            // The allocations compared: the requested budgets, or every budget dividing the total; humans with points at any.
            CorrectionsApplied =
            {
                ToProto(corrected.Touching(Completed(corrected.Measured).Where(r => HumanBudgets.HasPoints(r)
                    || (budgets.Count == 0 ? Reports.TimeBudgets.KFor(total, r.TimeBudgetSeconds) is not null : budgets.Contains(r.TimeBudgetSeconds))))),
            },
        };
        response.Rows.AddRange(report.Rows.Select(r => ToProto(r, corrected.Results)));
        foreach (var (agent, index) in report.BestRowByAgent) response.BestRowByAgent[agent] = index;
        response.UnmatchedFilters.AddRange(await UnmatchedAsync(request.Filter, context.CancellationToken));
        return response;
    }

    public override async Task<ScoreOverTimeResponse> ScoreOverTime(ScoreOverTimeRequest request, ServerCallContext context)
    {
        var points = request.Points == 0 ? Reports.ScoreOverTime.DefaultPoints : request.Points;
        if (points < 2 || points > MaxPoints) throw Guard.Invalid($"points must be between 2 and {MaxPoints}, got {request.Points}");
        var budget = request.AttemptBudget is null ? (double?)null : Seconds(request.AttemptBudget, "attempt_budget");
        var (corrected, inputs) = await ReadAsync(request.Filter, budget, context.CancellationToken);
        var response = new ScoreOverTimeResponse { CorrectionsApplied = { ToProto(corrected.Touching(Completed(corrected.Measured))) }, Inputs = inputs };
        foreach (var s in Reports.ScoreOverTime.Series(corrected.Results, points))
        {
            var series = new ScoreOverTimeSeries
            {
                Agent = s.Agent, Task = s.Task ?? "", Attempts = s.Attempts, AuditWork = ReportInputsText.AuditWork(corrected.Results, s.Agent, task: s.Task),
            };
            series.Points.AddRange(s.Points.Select(p => new TimePoint
            {
                Elapsed = Duration.FromTimeSpan(TimeSpan.FromSeconds(p.Seconds)), BestSoFar = p.BestSoFar, LogLinear = p.Interpolated,
            }));
            response.Series.Add(series);
        }
        response.UnmatchedFilters.AddRange(await UnmatchedAsync(request.Filter, context.CancellationToken));
        return response;
    }

    public override async Task<CostsResponse> Costs(CostsRequest request, ServerCallContext context)
    {
        var (results, inputs) = await SelectAsync(request.Filter, null, context.CancellationToken);
        var report = Reports.Costs.Compute(results);
        var response = new CostsResponse { TotalUsd = report.TotalUsd, Inputs = inputs };
        var auditCampaigns = results.Where(r => r.IsAuditWork).Select(r => r.CampaignId).ToHashSet();
        response.Attempts.AddRange(report.Attempts.Select(l => new AttemptCost
        {
            AttemptId = l.Attempt.AttemptId.ToString(),
            CampaignId = l.Attempt.CampaignId.ToString(),
            Task = l.Attempt.TaskKey,
            Agent = l.Attempt.Agent,
            Status = l.Attempt.Status,
            CostUsd = l.CostUsd,
            ModelCalls = l.Attempt.ModelCalls,
            WorkingHours = l.Attempt.WorkingSeconds / 3600,
            Basis = l.Basis,
            AuditWork = l.Attempt.IsAuditWork,
        }));
        response.Campaigns.AddRange(report.Campaigns.Select(c => new CampaignCost
        {
            CampaignId = c.CampaignId.ToString(), Attempts = c.Attempts, CostUsd = c.CostUsd, ModelCalls = c.ModelCalls, WorkingHours = c.WorkingHours,
            AuditWork = auditCampaigns.Contains(c.CampaignId),
        }));
        response.UnmatchedFilters.AddRange(await UnmatchedAsync(request.Filter, context.CancellationToken));
        return response;
    }

    public override Task<ImportHumanBaselinesResponse> ImportHumanBaselines(ImportHumanBaselinesRequest request, ServerCallContext context) =>
        humans.ImportAsync(request, Lookup, context.CancellationToken);

    public override Task<ListHumanBaselinesResponse> ListHumanBaselines(ListHumanBaselinesRequest request, ServerCallContext context) =>
        humans.ListAsync(request, context.CancellationToken);

    public override Task<CorrectHumanBaselineResponse> CorrectHumanBaseline(CorrectHumanBaselineRequest request, ServerCallContext context) =>
        humans.CorrectAsync(request, context);

    /// <summary>The catalog's constants for a CSV row, without the NotFound exceptions TaskCatalog.Resolve throws.</summary>
    private TaskLookup Lookup(string taskId, string? variant)
    {
        var bundle = catalog.Bundles.FirstOrDefault(b => b.Id == taskId);
        if (bundle is null)
        {
            var known = string.Join(", ", catalog.Bundles.Select(b => b.Id));
            return new TaskLookup(null, "task", $"unknown task '{taskId}'; known tasks: {(known.Length == 0 ? "none" : known)}");
        }
        var name = variant ?? bundle.DefaultVariant;
        var v = bundle.Variants.FirstOrDefault(x => x.Name == name);
        return v is null
            ? new TaskLookup(null, "variant", $"task '{taskId}' has no variant '{name}'; its variants: {string.Join(", ", bundle.VariantNames)}")
            : new TaskLookup(new TaskConstants(v.Name, v.Scoring.Start, v.Scoring.Reference));
    }

    /// <summary>The filter's values that match no stored result (a typo names itself instead of giving a silent empty report).</summary>
    private Task<IReadOnlyList<string>> UnmatchedAsync(ReportFilter? filter, CancellationToken ct) => store.UnmatchedAsync(Query(filter, null), ct);

    /// <summary>The selected results with the recorded corrections applied, unless the filter asks for the results as measured.</summary>
    private async Task<(CorrectedResults Results, ReportInputs Inputs)> ReadAsync(ReportFilter? filter, double? budgetSeconds, CancellationToken ct)
    {
        var (results, inputs) = await SelectAsync(filter, budgetSeconds, ct);
        if (filter?.IgnoreCorrections == true) return (new CorrectedResults(results, [], results), inputs);
        var corrections = await store.CorrectionsForAsync(results.Select(r => r.AttemptId).ToHashSet(), ct);
        return (ResultCorrections.Apply(results, corrections), inputs);
    }

    /// <summary>
    /// The rows a report reads, audit work left out unless the filter includes it, and what is known of them; with
    /// filter.verify, each row checked against the sealed record first (one call for all of them), and the report
    /// refused, naming the rows, when any differs.
    /// </summary>
    private async Task<(IReadOnlyList<AttemptResult> Rows, ReportInputs Inputs)> SelectAsync(ReportFilter? filter, double? budgetSeconds, CancellationToken ct)
    {
        var query = Query(filter, budgetSeconds);
        var all = await store.QueryAsync(query with { IncludeAudit = true }, ct);
        var rows = query.IncludeAudit ? all : all.Where(r => !r.IsAuditWork).ToList();
        var auditRows = all.Count(r => r.IsAuditWork);
        BindingCheck? check = null;
        if (filter?.Verify == true)
        {
            // Imported rows are asked about too: the sealed record must not know them (see ResultBinding.Compare).
            var ids = rows.Select(r => r.AttemptId).ToHashSet();
            if (ids.Count > MaxVerifiedRows)
                throw Guard.FailedPrecondition($"the report reads {ids.Count} rows; at most {MaxVerifiedRows} are checked against the sealed record in one report: narrow the filter");
            // Filtered by campaign, the sealed record also says which ended attempts should have a row here: one
            // deleted with SQL is named as missing. (Without a campaign filter only verify --campaign can tell.)
            var derived = await sealedRecord.DeriveAsync(ids, query.CampaignIds, ct);
            var expected = derived.Where(s => ids.Contains(Guid.TryParse(s.AttemptId, out var g) ? g : Guid.Empty) || query.Matches(ResultBinding.AsStored(s)));
            check = ResultBinding.Compare(rows, expected, missingRows: query.CampaignIds.Count > 0);
            var storedCorrections = await store.CorrectionsForAsync(rows.Where(r => r.FromOrchestrator).Select(r => r.AttemptId).ToHashSet(), ct);
            check = check with { Differences = [.. check.Differences, .. ResultBinding.Corrections(rows, derived, storedCorrections)] };
            if (!check.Ok)
            {
                var differing = check.Differences.Select(d => d.AttemptId).Distinct().Count();
                throw Guard.FailedPrecondition(
                    $"the report's inputs do not match the sealed record: {differing} of {check.RowsChecked} row(s) differ: {check.Describe()}");
            }
        }
        return (rows, ReportInputsText.Of(rows, auditRows, query.IncludeAudit, check));
    }

    // Every score report reads completed attempts only.
    private static IEnumerable<AttemptResult> Completed(IEnumerable<AttemptResult> results) =>
        results.Where(r => r.Status == AttemptResult.Completed);

    private static IEnumerable<V1.AppliedCorrection> ToProto(IEnumerable<AppliedCorrection> applied) => applied.Select(a => new V1.AppliedCorrection
    {
        AttemptId = a.Correction.AttemptId.ToString(), Number = a.Correction.Number, Kind = a.Correction.Kind,
        Reason = a.Correction.Reason, Actor = a.Correction.Actor, Effect = a.Effect,
    });

    private static ResultQuery Query(ReportFilter? filter, double? budgetSeconds)
    {
        if (filter is null) return ResultQuery.All with { BudgetSeconds = budgetSeconds };
        // Bounded before the store sees them: PostgreSQL refuses a NUL in text, and a query of thousands of names helps nobody.
        Guard.Count(filter.Tasks.Count, "filter.tasks", MaxFilterItems);
        Guard.Count(filter.Agents.Count, "filter.agents", MaxFilterItems);
        Guard.Count(filter.CampaignIds.Count, "filter.campaign_ids", MaxFilterItems);
        foreach (var t in filter.Tasks) Guard.Text(Guard.Required(t, "filter.tasks[]"), "filter.tasks[]", MaxNameLength);
        foreach (var a in filter.Agents) Guard.Text(Guard.Required(a, "filter.agents[]"), "filter.agents[]", MaxNameLength);
        var campaigns = filter.CampaignIds.Select(c => Guard.Id(c, "filter.campaign_ids[]")).ToList();
        return new ResultQuery(filter.Tasks.ToList(), filter.Agents.ToList(), campaigns, budgetSeconds, filter.IncludeAudit);
    }

    private static BootstrapOptions Bootstrap(ulong? seed, int resamples)
    {
        if (resamples < 0 || resamples > BootstrapOptions.MaxResamples)
            throw Guard.Invalid($"bootstrap_resamples must be between 0 (default {BootstrapOptions.DefaultResamples}) and {BootstrapOptions.MaxResamples}, got {resamples}");
        return new BootstrapOptions(seed ?? BootstrapOptions.DefaultSeed, resamples == 0 ? BootstrapOptions.DefaultResamples : resamples);
    }

    private static double Seconds(Duration d, string field)
    {
        var span = Guard.Duration(d, field, allowNegative: true)!.Value;
        if (span <= TimeSpan.Zero) throw Guard.Invalid($"{field} must be positive");
        return span.TotalSeconds;
    }

    private static string Format(double seconds) => TimeSpan.FromSeconds(seconds).ToString("c");

    private static V1.ScoreAtKRow ToProto(ScoreAtKRowResult r, IEnumerable<AttemptResult> read)
    {
        var row = new V1.ScoreAtKRow
        {
            Agent = r.Agent,
            AttemptBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(r.BudgetSeconds)),
            K = r.K,
            Score = r.Score,
            CiLow = r.CiLow,
            CiHigh = r.CiHigh,
            TasksScored = r.PerTask.Count,
            MissingTasks = { r.MissingTasks },
            Attempts = r.Attempts,
            MinAttemptsPerTask = r.MinAttemptsPerTask,
            Extrapolated = r.Extrapolated,
            AuditWork = ReportInputsText.AuditWork(read, r.Agent, r.BudgetSeconds),
        };
        row.PerTask.AddRange(r.PerTask.Select(t => new TaskScoreAtK
        {
            Task = t.Task, Attempts = t.Attempts, AttemptsWithoutValidScore = t.AttemptsWithoutValidScore, Score = t.Score,
        }));
        return row;
    }
}
