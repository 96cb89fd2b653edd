using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using ReBench.Agents.Session;
using ReBench.Orchestrator.V1;

namespace ReBench.Agents.Drivers.Aide;

/// <summary>
/// Records the search tree in the attempt's stream (RecordAgentNote, stored as agent_note_recorded): one aide_node
/// note per node, one aide_tree summary at the end. Step ids are derived from the node ("&lt;attempt&gt;:aide:node:3"),
/// not from the session's step counter, so a driver started again after a restart gets the recorded note back
/// instead of a second one.
/// </summary>
public sealed class AideNotes(AttemptSession.AttemptSessionClient client, TransientRetry retry, Guid attemptId, ILogger logger)
{
    public const string NodeKind = "aide_node";
    public const string TreeKind = "aide_tree";

    /// <summary>Notes are at most 64 KiB (the orchestrator's limit); long plans are cut to fit.</summary>
    public const int MaxChars = 60 * 1024;

    private bool _unsupported;

    public string NodeStep(int id) => $"{attemptId}:aide:node:{id}";
    public string TreeStep => $"{attemptId}:aide:tree";

    public Task NodeAsync(AideNode n, bool bestSoFar, CancellationToken ct) => RecordAsync(NodeStep(n.Id), NodeKind, Fit(new JsonObject
    {
        ["node"] = n.Id,
        ["parent"] = n.Parent?.Id,
        ["operation"] = n.OperationName,
        ["debug_depth"] = n.DebugDepth,
        ["plan"] = n.Plan,
        ["code_sha256"] = n.CodeSha256,
        ["code_chars"] = n.Code?.Length,
        ["write_step"] = n.WriteStep,
        ["run_step"] = n.RunStep,
        ["exit_code"] = n.ExitCode,
        ["timed_out"] = n.TimedOut,
        ["score_valid"] = n.ScoreValid,
        ["score_visible"] = n.ScoreVisible,
        ["raw_score"] = Number(n.RawScore),
        ["normalized_score"] = Number(n.NormalizedScore),
        ["valid"] = n.Good,
        ["buggy"] = n.Buggy,
        ["buggy_reason"] = n.BuggyReason,
        ["best_so_far"] = bestSoFar,
    }), ct);

    public Task TreeAsync(JsonObject summary, CancellationToken ct) => RecordAsync(TreeStep, TreeKind, Fit(summary), ct);

    /// <summary>The compact line of one node in the tree summary.</summary>
    public static JsonObject Summary(AideNode n, AideNode? best) => new()
    {
        ["node"] = n.Id,
        ["parent"] = n.Parent?.Id,
        ["operation"] = n.OperationName,
        ["code_sha256"] = n.CodeSha256,
        ["raw_score"] = Number(n.RawScore),
        ["normalized_score"] = Number(n.NormalizedScore),
        ["valid"] = n.Good,
        ["buggy"] = n.Buggy,
        ["chosen"] = ReferenceEquals(n, best),
    };

    private async Task RecordAsync(string stepId, string kind, string json, CancellationToken ct)
    {
        if (_unsupported) return;
        try
        {
            await retry.RunAsync($"RecordAgentNote {stepId}", c => client.RecordAgentNoteAsync(new AgentNoteRequest
            {
                AttemptId = attemptId.ToString(), StepId = stepId, Kind = kind, Json = json,
            }, cancellationToken: c).ResponseAsync, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            throw new AttemptEndedException(e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            // An orchestrator older than RecordAgentNote: the search still runs, its tree is only in the log.
            _unsupported = true;
            logger.LogWarning("Attempt {Attempt}: the session API has no RecordAgentNote ({Detail}); the AIDE tree is not recorded in events",
                attemptId, e.Status.Detail);
        }
    }

    private static double? Number(double d) => double.IsFinite(d) ? d : null;

    /// <summary>The note as JSON, with plans cut (longest first) until it fits <see cref="MaxChars"/>.</summary>
    private static string Fit(JsonObject note)
    {
        var json = note.ToJsonString(Options);
        for (var limit = 2000; json.Length > MaxChars && limit >= 0; limit = limit > 100 ? limit / 2 : -1)
        {
            Cut(note, limit);
            json = note.ToJsonString(Options);
        }
        return json;
    }

    private static void Cut(JsonNode? node, int limit)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > limit && key is "plan" or "reason" or "buggy_reason")
                        o[key] = s[..limit] + "…";
                    else Cut(value, limit);
                }
                break;
            case JsonArray a:
                foreach (var item in a) Cut(item, limit);
                break;
        }
    }

    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
