using Grpc.Core;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;

namespace ReBench.Orchestrator.Audit;

/// <summary>
/// The platform-only SealedRecord service (protos/sealed_record.proto; the gateway routes none of it): results derived
/// from sealed streams, which the scoring service checks a report's inputs against.
/// </summary>
public sealed class SealedRecordGrpc(SealedResults results) : SealedRecord.SealedRecordBase
{
    public override async Task<ListSealedResultsResponse> ListSealedResults(ListSealedResultsRequest request, ServerCallContext context)
    {
        Guard.Count(request.AttemptIds.Count, "attempt_ids", SealedResults.MaxAttempts);
        var ids = request.AttemptIds.Select(a => Guard.Id(a, "attempt_ids[]")).Distinct().ToList();
        return new ListSealedResultsResponse { Results = { await results.DeriveAsync(ids, context.CancellationToken) } };
    }
}
