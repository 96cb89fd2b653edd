using Google.Protobuf;
using Grpc.Core;
using ReBench.Scoring.Catalog;
using ReBench.Scoring.Scores;
using ReBench.Scoring.Submissions;
using ReBench.Scoring.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Scoring.Grpc;

/// <summary>Translates the Scoring API onto the catalog, the score rules and the submission scorer.</summary>
public sealed class ScoringGrpcService(TaskCatalog catalog, SubmissionScorer scorer) : V1.Scoring.ScoringBase
{
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
        };
    }

    public override Task<FinalScore> Aggregate(AggregateRequest request, ServerCallContext context)
    {
        var rules = Resolve(request.TaskId, request.Variant).Scoring;
        var final = ScoreMath.Final(request.RawScores, rules.Aggregation, rules.Start, rules.Reference);
        return Task.FromResult(new FinalScore { Valid = final.Valid, RawScore = final.Raw, NormalizedScore = final.Normalized });
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
