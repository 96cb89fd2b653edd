using ReBench.Orchestrator.V1;

namespace ReBench.Cli.Commands;

/// <summary>
/// `rebench audit correct` and `rebench audit corrections`: corrections are new events with actor and reason, never a
/// rewrite of the sealed history. Exit codes: 0 done (list: chain verified), 1 the corrections' chain is broken,
/// 2 bad input (an unknown --kind), 3 refused (an auditor key may not record corrections), 4 unknown attempt.
/// </summary>
internal static class AuditCorrections
{
    public const int Refused = ExitCodes.Refused;

    public static Command Correct()
    {
        var attempt = new Argument<string>("attempt-id");
        var kind = new Option<string>("--kind") { Description = "exclude_from_reports | score_invalid | reinstate | note", Required = true };
        var reason = new Option<string>("--reason") { Description = "why (required)", Required = true };
        var detail = new Option<string?>("--detail") { Description = "what exactly (text or a JSON object)" };
        var correct = new Command("correct", "record a correction of an attempt (actor and reason kept; the attempt's history is not changed)")
            { attempt, kind, reason, detail };
        correct.SetAction(async (r, ct) =>
        {
            // A correction is recorded for good: a mistyped kind would be a permanent record that does nothing.
            var k = Parsing.CorrectionKind(r.GetValue(kind)!.Trim());
            if (r.GetValue(reason)!.Trim().Length == 0) throw CliException.Bad("--reason: say why (required)");
            using var client = CliApp.Client(r);
            try
            {
                var c = await client.Audit.RecordCorrectionAsync(new RecordCorrectionRequest
                {
                    AttemptId = r.GetValue(attempt)!, Kind = k, Reason = r.GetValue(reason)!, Detail = r.GetValue(detail) ?? "",
                }, cancellationToken: ct);
                Console.WriteLine($"recorded correction {c.Number} of attempt {c.AttemptId}: {c.Kind} by {c.Actor}");
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
                // Not an attempt the platform ran: an imported human row is corrected in the results store that holds it
                // (NOT_FOUND again when it is not one either, naming the id).
                var c = await client.Reports.CorrectHumanBaselineAsync(new Scoring.V1.CorrectHumanBaselineRequest
                {
                    AttemptId = r.GetValue(attempt)!, Kind = k, Reason = r.GetValue(reason)!,
                }, cancellationToken: ct);
                Console.WriteLine($"recorded correction {c.Number} of human baseline row {r.GetValue(attempt)}: {k}");
            }
            return ExitCodes.Ok;
        });
        return correct;
    }

    public static Command List()
    {
        var attempt = new Argument<string>("attempt-id");
        var format = new Option<string>("--format") { Description = "table | json", DefaultValueFactory = _ => "table" };
        var list = new Command("corrections", "an attempt's corrections, oldest first, and whether their hash chain verifies") { attempt, format };
        list.SetAction(async (r, ct) =>
        {
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("table" or "json")) return AuditCommands.Usage($"--format must be table or json, got '{fmt}'");
            using var client = CliApp.Client(r);
            var response = await client.Audit.ListCorrectionsAsync(new ListCorrectionsRequest { AttemptId = r.GetValue(attempt)! }, cancellationToken: ct);
            if (fmt == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    chain_ok = response.ChainOk, problem = response.Problem,
                    corrections = response.Corrections.Select(c => new
                    {
                        number = c.Number, at = c.At?.ToDateTimeOffset(), actor = c.Actor, role = c.Role, kind = c.Kind, reason = c.Reason, detail = c.Detail,
                    }),
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                Output.Table(Console.Out, ["#", "at", "actor", "role", "kind", "reason"], response.Corrections.Select(c => (IReadOnlyList<string>)
                [
                    c.Number.ToString(CultureInfo.InvariantCulture), c.At?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "",
                    c.Actor, c.Role, c.Kind, c.Reason,
                ]));
                Console.WriteLine(response.ChainOk ? $"{response.Corrections.Count} correction(s); chain verified" : $"BROKEN: {response.Problem}");
            }
            return response.ChainOk ? AuditCommands.Verified : AuditCommands.Broken;
        });
        return list;
    }
}
