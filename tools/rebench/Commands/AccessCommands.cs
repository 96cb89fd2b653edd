using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench audit access &lt;attempt&gt;`: who read the attempt's transcript, with which method and when. Exit 1 when the
/// access log's hash chain is broken, 2 on bad input.
/// </summary>
internal static class AccessCommands
{
    public static Command Build()
    {
        var attempt = new Argument<string>("attempt-id");
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var access = new Command("access", "reads of an attempt's transcript (ListAccessEvents), oldest first") { attempt, format };
        access.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("table" or "json")) return AuditCommands.Usage($"--format must be table or json, got '{fmt}'");
            using var client = CliApp.Client(r);
            var response = await client.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = r.GetValue(attempt)! }, cancellationToken: ct);
            // The JSON stays an array of reads (its shape predates the chain check); a broken chain goes to stderr and exit 1.
            var broken = response.HasChainOk && !response.ChainOk;
            if (broken) await Console.Error.WriteLineAsync($"BROKEN access log: {response.Problem}");
            if (fmt == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(response.Events.Select(e => new
                {
                    at = e.At?.ToDateTimeOffset(), principal = e.Principal, role = e.Role, method = e.Method, attempt_id = e.AttemptId, detail = e.Detail,
                }), new JsonSerializerOptions { WriteIndented = true }));
                return broken ? AuditCommands.Broken : AuditCommands.Verified;
            }
            Output.Table(Console.Out, ["at", "principal", "role", "method", "detail"], response.Events.Select(e => (IReadOnlyList<string>)
                [e.At?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) ?? "", e.Principal, e.Role, e.Method, e.Detail]));
            Console.WriteLine($"{response.Events.Count} access event(s); " +
                (!response.HasChainOk ? "chain not checked (the orchestrator predates access-log chains)" : broken ? "chain BROKEN" : "chain verified"));
            return broken ? AuditCommands.Broken : AuditCommands.Verified;
        });
        return new Command("audit", "audit trail of an attempt") { access, AuditCorrections.Correct(), AuditCorrections.List() };
    }
}
