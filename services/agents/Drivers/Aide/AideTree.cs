namespace ReBench.Agents.Drivers.Aide;

public enum AideOperation { Draft, Debug, Improve }

/// <summary>
/// One candidate solution: what the model proposed (plan and code) and what running and scoring it gave. A node is
/// buggy when it has no usable code, its run failed or timed out, or its score is invalid (NaN).
/// </summary>
public sealed class AideNode
{
    public required int Id { get; init; }
    public required AideNode? Parent { get; init; }
    public required AideOperation Operation { get; init; }
    public List<AideNode> Children { get; } = [];
    public string Plan { get; set; } = "";
    /// <summary>The solution's full source; null when the model's answer held no usable code block.</summary>
    public string? Code { get; set; }
    public string? CodeSha256 { get; set; }
    /// <summary>What the model is shown about this node's run and score (trimmed output, scorer message).</summary>
    public string Output { get; set; } = "";
    public int? ExitCode { get; set; }
    public bool TimedOut { get; set; }
    public bool ScoreValid { get; set; }
    public bool ScoreVisible { get; set; }
    public double RawScore { get; set; } = double.NaN;
    public double NormalizedScore { get; set; } = double.NaN;
    public bool Buggy { get; set; } = true;
    public string? BuggyReason { get; set; }
    public string? WriteStep { get; set; }
    public string? RunStep { get; set; }

    /// <summary>Consecutive debug operations leading here (AIDE's debug_depth).</summary>
    public int DebugDepth => Operation == AideOperation.Debug ? (Parent?.DebugDepth ?? 0) + 1 : 0;
    public bool IsLeaf => Children.Count == 0;
    public bool Good => !Buggy;
    /// <summary>The score used to rank nodes: the normalized score (start 0, reference 1, higher is better whatever
    /// the task's direction); NaN when hidden or invalid.</summary>
    public double Metric => Good && ScoreVisible ? NormalizedScore : double.NaN;

    public string OperationName => Operation.ToString().ToLowerInvariant();
}

/// <summary>
/// AIDE's solution tree and search policy (aideml agent.search_policy): draft until num_drafts drafts exist; then,
/// with probability debug_prob, debug a buggy leaf whose debug depth is below max_debug_depth; otherwise improve the
/// best good node, or draft again when no node is good.
/// </summary>
public sealed class AideTree(int numDrafts, int maxDebugDepth, double debugProb, Random random)
{
    private readonly List<AideNode> _nodes = [];

    public IReadOnlyList<AideNode> Nodes => _nodes;

    /// <summary>The next operation and the node it works on (null for a draft).</summary>
    public (AideOperation Operation, AideNode? Parent) Next()
    {
        if (_nodes.Count(n => n.Operation == AideOperation.Draft) < numDrafts) return (AideOperation.Draft, null);
        // Drawn even when nothing is debuggable, so the sequence of choices depends only on the seed and the tree.
        if (random.NextDouble() < debugProb)
        {
            var debuggable = _nodes.Where(n => n.Buggy && n.IsLeaf && n.DebugDepth < maxDebugDepth).ToList();
            if (debuggable.Count > 0) return (AideOperation.Debug, debuggable[random.Next(debuggable.Count)]);
        }
        return Best() is { } best ? (AideOperation.Improve, best) : (AideOperation.Draft, null);
    }

    public AideNode Add(AideOperation operation, AideNode? parent)
    {
        var node = new AideNode { Id = _nodes.Count, Parent = parent, Operation = operation };
        parent?.Children.Add(node);
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// The good node with the highest normalized score (the earliest on a tie); when no good node's score is visible
    /// (a task that hides scores), the latest good node; null when no node is good.
    /// </summary>
    public AideNode? Best()
    {
        AideNode? best = null;
        foreach (var n in _nodes.Where(n => n.Good && !double.IsNaN(n.Metric)))
            if (best is null || n.Metric > best.Metric) best = n;
        return best ?? _nodes.LastOrDefault(n => n.Good);
    }

    /// <summary>Why <paramref name="best"/> was chosen, in words, for the tree note.</summary>
    public string Reason(AideNode? best)
    {
        if (best is null) return "no node ran and scored without error";
        var good = _nodes.Count(n => n.Good);
        return double.IsNaN(best.Metric)
            ? $"the latest of {good} good node(s): no score was visible to rank them"
            : $"highest normalized score ({best.Metric:G6}) of {good} good node(s) out of {_nodes.Count}";
    }
}
