using ReBench.Scoring.V1;

namespace ReBench.Scoring.Reports;

/// <summary>What every report states about its inputs, and which of its rows come from audit work (pure).</summary>
public static class ReportInputsText
{
    /// <param name="read">the rows the report reads (audit work already left out unless included).</param>
    /// <param name="auditRows">audit-work rows in the selection, whether included or not.</param>
    /// <param name="check">the check against the sealed record, when the report was asked to make it (it matched).</param>
    public static ReportInputs Of(IReadOnlyCollection<AttemptResult> read, int auditRows, bool auditIncluded, BindingCheck? check)
    {
        var unbound = read.Count(r => r.FromOrchestrator && !r.Bound);
        var notSealed = read.Count(r => !r.FromOrchestrator);
        var statement = check is null
            ? "inputs not checked against the sealed record (ask with --verify)"
            : $"inputs checked against the sealed record: {check.RowsChecked} row(s) match";
        if (unbound > 0) statement += $"; {unbound} row(s) unbound (stored before results carried their final event number and chain hash)";
        if (notSealed > 0) statement += $"; {notSealed} human row(s) are imported, not in the sealed record";
        if (auditRows > 0)
            statement += auditIncluded
                ? $"; {auditRows} audit-work row(s) (re-executions) included and marked"
                : $"; {auditRows} audit-work row(s) (re-executions) left out (--include-audit to include them)";
        return new ReportInputs
        {
            Verified = check is { Ok: true }, Statement = statement, Rows = read.Count, Unbound = unbound, NotSealed = notSealed,
            AuditRows = auditRows, AuditIncluded = auditIncluded,
        };
    }

    /// <summary>A report row (an agent's, at a budget, on a task) is marked when any attempt behind it is audit work.</summary>
    public static bool AuditWork(IEnumerable<AttemptResult> read, string agent, double? budgetSeconds = null, string? task = null) =>
        read.Any(r => r.IsAuditWork && r.Agent == agent && (budgetSeconds is null || r.TimeBudgetSeconds == budgetSeconds)
                      && (task is null || r.TaskKey == task));
}
