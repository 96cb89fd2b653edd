using Microsoft.AspNetCore.Mvc;
using ReBench.Orchestrator.V1;
using ReBench.WebConsole.Platform;

namespace ReBench.WebConsole.Pages;

public sealed class IndexModel(GatewayApi gateway) : ConsolePage(gateway)
{
    /// <summary>The most campaigns one page reads (newest first); a cut list says so.</summary>
    public const int Limit = 1000;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? State { get; set; }
    public List<Campaign> Campaigns { get; } = [];
    public bool Cut { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var request = new ListCampaignsRequest { PageSize = 200 };
        var all = new List<Campaign>();
        do
        {
            var page = await Api.Campaigns.ListCampaignsAsync(request, cancellationToken: ct);
            all.AddRange(page.Campaigns);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "" && all.Count < Limit);
        Cut = request.PageToken != "";
        var q = Q?.Trim() ?? "";
        Campaigns.AddRange(all.Where(c =>
            (q.Length == 0 || c.Name.Contains(q, StringComparison.OrdinalIgnoreCase) || c.CampaignId.StartsWith(q, StringComparison.OrdinalIgnoreCase)
                || c.Tasks.Any(t => t.TaskId.Contains(q, StringComparison.OrdinalIgnoreCase)) || c.Agents.Any(a => a.Name.Contains(q, StringComparison.OrdinalIgnoreCase)))
            && State switch { "running" => !c.Finished, "finished" => c.Finished, _ => true }));
    }
}
