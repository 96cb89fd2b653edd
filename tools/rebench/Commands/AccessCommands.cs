using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench audit access &lt;attempt&gt; | --campaign &lt;id&gt; [--principal P] [--method M]`: who read the attempts' content
/// (transcript, blobs, step history, recorded actions, score log, verification, export, re-execution), with which
/// method and when. Exit 1 when an access log's hash chain is broken, 2 on bad input. The filters choose what is
/// printed; each chain is always checked whole, so a filter never hides a broken log.
/// </summary>
internal static class AccessCommands
{
    public static Command Build()
    {
        var attempt = new Argument<string?>("attempt-id") { Arity = ArgumentArity.ZeroOrOne, Description = "the attempt (or --campaign)" };
        var campaign = new Option<string?>("--campaign") { Description = "every attempt of this campaign instead of one attempt" };
        var principal = new Option<string?>("--principal") { Description = "only reads by this principal (an API key's id)" };
        var method = new Option<string?>("--method") { Description = "only reads through this method, e.g. GetBlob (case-insensitive)" };
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var access = new Command("access", "reads of an attempt's content (ListAccessEvents), oldest first") { attempt, campaign, principal, method, format };
        access.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("table" or "json")) return AuditCommands.Usage($"--format must be table or json, got '{fmt}'");
            var (one, all) = (r.GetValue(attempt), r.GetValue(campaign));
            if ((one is null) == (all is null)) return AuditCommands.Usage("audit access needs an attempt id or --campaign <id> (not both)");
            using var client = CliApp.Client(r);
            var ids = one is not null
                ? [one]
                : (await Paging.AttemptsAsync(client.Attempts, new ListAttemptsRequest { CampaignId = all }, null, ct)).Items.Select(a => a.AttemptId).Reverse().ToList();

            var events = new List<AccessEvent>();
            var broken = new List<string>();
            var notChecked = false;
            foreach (var id in ids)
            {
                var response = await client.Audit.ListAccessEventsAsync(new ListAccessEventsRequest { AttemptId = id }, cancellationToken: ct);
                if (!response.HasChainOk) notChecked = true;
                else if (!response.ChainOk) broken.Add($"attempt {id}: {response.Problem}");
                events.AddRange(response.Events.Where(e =>
                    (r.GetValue(principal) is not { } p || e.Principal == p)
                    && (r.GetValue(method) is not { } m || string.Equals(e.Method, m, StringComparison.OrdinalIgnoreCase))));
            }
            // A broken chain goes to stderr and exit 1, whatever the format.
            foreach (var b in broken) await Console.Error.WriteLineAsync($"BROKEN access log: {b}");
            var code = broken.Count > 0 ? AuditCommands.Broken : AuditCommands.Verified;
            if (fmt == "json")
            {
                // The JSON stays an array of reads (its shape predates the chain check).
                Console.WriteLine(JsonSerializer.Serialize(events.Select(e => new
                {
                    at = e.At?.ToDateTimeOffset(), principal = e.Principal, role = e.Role, method = e.Method, attempt_id = e.AttemptId, detail = e.Detail,
                }), new JsonSerializerOptions { WriteIndented = true }));
                return code;
            }
            string[] columns = all is null ? ["at", "principal", "role", "method", "detail"] : ["at", "attempt", "principal", "role", "method", "detail"];
            Output.Table(Console.Out, columns, events.Select(e =>
            {
                var at = e.At?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) ?? "";
                return (IReadOnlyList<string>)(all is null ? [at, e.Principal, e.Role, e.Method, e.Detail] : [at, e.AttemptId, e.Principal, e.Role, e.Method, e.Detail]);
            }));
            var chains = ids.Count == 1 ? "chain" : $"{ids.Count} chains";
            Console.WriteLine($"{events.Count} access event(s); " +
                (broken.Count > 0 ? $"{chains}: {broken.Count} BROKEN" : notChecked ? $"{chains} not checked (the orchestrator predates access-log chains)" : $"{chains} verified"));
            return code;
        });
        return new Command("audit", "audit trail of an attempt") { access, AuditCorrections.Correct(), AuditCorrections.List() };
    }
}
