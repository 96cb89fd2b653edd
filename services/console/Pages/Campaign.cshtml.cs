using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using ReBench.Orchestrator.V1;
using ReBench.WebConsole.Platform;

namespace ReBench.WebConsole.Pages;

public sealed class CampaignModel(GatewayApi gateway) : ConsolePage(gateway)
{
    [BindProperty(SupportsGet = true)] public string Id { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string? Task { get; set; }
    [BindProperty(SupportsGet = true)] public string? Agent { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    public Campaign Campaign { get; private set; } = new();
    public List<Attempt> Attempts { get; } = [];

    public static readonly string[] Statuses = ["scheduled", "running", "completed", "failed", "cancelled"];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Campaign = await Api.Campaigns.GetCampaignAsync(new GetCampaignRequest { CampaignId = Id }, cancellationToken: ct);
        var request = new ListAttemptsRequest
        {
            CampaignId = Id, TaskId = Task?.Trim() ?? "", Agent = Agent?.Trim() ?? "", PageSize = 1000,
            Status = Statuses.Contains(Status) ? Enum.Parse<AttemptStatus>(Status!, ignoreCase: true) : AttemptStatus.Unspecified,
        };
        do
        {
            var page = await Api.Attempts.ListAttemptsAsync(request, cancellationToken: ct);
            Attempts.AddRange(page.Attempts);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "");
    }

    public static string StatusName(AttemptStatus s) => s.ToString().ToLowerInvariant();

    /// <summary>NaN (no valid score) shows as a dash, not as "NaN".</summary>
    public static string Score(double v, bool valid = true) =>
        !valid || double.IsNaN(v) ? "–" : v.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Budget(Google.Protobuf.WellKnownTypes.Duration? d) => d is null ? "" : Clock(d.ToTimeSpan());

    public static string Clock(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{t.Minutes}m{t.Seconds:00}s";
}
