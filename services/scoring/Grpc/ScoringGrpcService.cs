using Google.Protobuf;
using Grpc.Core;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.Scorers;
using ReBench.Scoring.Scores;
using ReBench.Scoring.Submissions;
using ReBench.Scoring.TaskStandard;
using ReBench.Scoring.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Grpc;

/// <summary>Translates the Scoring API onto the catalog, the score rules and the submission scorer.</summary>
public sealed class ScoringGrpcService(TaskCatalog catalog, SubmissionScorer scorer, TaskStandardBridge taskStandard, TimeProvider time,
    Assets.AssetVerifier assets, Reports.IResultsStore results, AgentEnvironment agentEnvironment) : V1.Scoring.ScoringBase
{
    /// <summary>
    /// Platform-only (the orchestrator's VerifyCampaign): every stored row of the campaigns against the results the
    /// caller derived from the sealed record, and every ended attempt's row present.
    /// </summary>
    public override async Task<CheckResultsResponse> CheckResults(CheckResultsRequest request, ServerCallContext context)
    {
        Guard.Count(request.CampaignIds.Count, "campaign_ids", 100);
        Guard.Count(request.Sealed.Count, "sealed", 100_000);
        var campaigns = request.CampaignIds.Select(c => Guard.Id(c, "campaign_ids[]")).ToList();
        if (campaigns.Count == 0) throw Guard.Invalid("campaign_ids: at least one campaign is required");
        var stored = await results.QueryAsync(new Reports.ResultQuery([], [], campaigns, IncludeAudit: true), context.CancellationToken);
        var check = Reports.ResultBinding.Compare(stored, request.Sealed, missingRows: true);
        return new CheckResultsResponse { RowsChecked = check.RowsChecked, Differences = { check.Differences }, Unbound = check.Unbound };
    }

    public override Task<ListTasksResponse> ListTasks(ListTasksRequest request, ServerCallContext context)
    {
        var response = new ListTasksResponse();
        foreach (var bundle in catalog.Bundles)
            response.Tasks.AddRange(bundle.Variants.Select(v => TaskDescriptors.ToProto(v, bundle)));
        response.InvalidBundles.AddRange(catalog.Problems.Select(p => new BundleError { Path = p.Path, Message = p.Message }));
        return Task.FromResult(response);
    }

    public override Task<TaskDescriptor> GetTask(GetTaskRequest request, ServerCallContext context)
    {
        var variant = Resolve(request.TaskId, request.Variant);
        return Task.FromResult(TaskDescriptors.ToProto(variant, catalog.Bundle(variant.TaskId)));
    }

    public override async Task<IntermediateScore> ScoreSubmission(ScoreSubmissionRequest request, ServerCallContext context)
    {
        Guard.Required(request.AttemptId, "attempt_id");
        Guard.Required(request.EnvironmentId, "environment_id");
        var variant = Resolve(request.TaskId, request.Variant);
        var outcome = await scorer.ScoreAsync(request.AttemptId, request.EnvironmentId, variant, context.CancellationToken);
        return new IntermediateScore
        {
            Valid = outcome.Valid,
            RawScore = outcome.Raw,
            NormalizedScore = outcome.Normalized,
            MessageJson = outcome.MessageJson,
            DetailsJson = outcome.DetailsJson,
            InvalidReason = outcome.InvalidReason,
            ScoreVisible = variant.Scoring.ScoreVisible,
            DurationMs = outcome.DurationMs,
            FlaggedForReview = outcome.FlaggedForReview,
            TamperEvidenceJson = outcome.FlaggedForReview ? TamperEvidence.ToJson(outcome.Evidence) : "",
        };
    }

    public override async Task<PrepareEnvironmentResult> PrepareEnvironment(PrepareEnvironmentRequest request, ServerCallContext context)
    {
        Guard.Required(request.AttemptId, "attempt_id");
        Guard.Required(request.EnvironmentId, "environment_id");
        var variant = Resolve(request.TaskId, request.Variant);
        assets.EnsureReady(variant); // FAILED_PRECONDITION listing missing/differing assets: the attempt does not start
        var started = time.GetTimestamp();
        // The agent's own task variables, before anything of the agent runs; FAILED_PRECONDITION where one is not configured.
        await agentEnvironment.DeliverAsync(request.EnvironmentId, variant, context.CancellationToken);
        var (already, ranStart) = await scorer.PrepareAsync(request.AttemptId, request.EnvironmentId, variant, context.CancellationToken);
        return new PrepareEnvironmentResult
        {
            AlreadyPrepared = already, RanTaskStart = ranStart, DurationMs = (long)time.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    public override async Task<FinalScore> Aggregate(AggregateRequest request, ServerCallContext context)
    {
        var variant = Resolve(request.TaskId, request.Variant);
        var rules = variant.Scoring;
        // A Task Standard family's own aggregate_scores runs in the environment; None or no such method -> the manifest's rule.
        var final = variant.TaskStandard is not null && request.EnvironmentId.Length > 0
            ? await taskStandard.AggregateAsync(request.EnvironmentId, variant, request.RawScores, scorer.TaskEnv(variant), context.CancellationToken,
                request.Submission)
            : null;
        final ??= ScoreMath.Final(request.RawScores, rules.Aggregation, rules.Start, rules.Reference);
        return new FinalScore { Valid = final.Value.Valid, RawScore = final.Value.Raw, NormalizedScore = final.Value.Normalized };
    }

    public override async Task<ReferenceSolution> GetReferenceSolution(GetReferenceSolutionRequest request, ServerCallContext context)
    {
        var variant = Resolve(request.TaskId, request.Variant);
        var solution = new ReferenceSolution();
        foreach (var (relative, full) in BundleDigest.Files(variant.Folders.Reference))
        {
            var content = await File.ReadAllBytesAsync(full, context.CancellationToken);
            solution.Files.Add(new SolutionFile { Path = relative, Content = ByteString.CopyFrom(content) });
        }
        return solution;
    }

    private TaskVariant Resolve(string taskId, string variant) => catalog.Resolve(Guard.Required(taskId, "task_id"), variant);
}
