using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using ReBench.Orchestrator.V1;
using ReBench.Replay;
using ReBench.WebConsole.Platform;

namespace ReBench.WebConsole.Pages;

public sealed class AttemptModel(GatewayApi gateway) : ConsolePage(gateway)
{
    [BindProperty(SupportsGet = true)] public string Id { get; set; } = "";
    /// <summary>First event number of the page shown (1-based).</summary>
    [BindProperty(SupportsGet = true)] public long From { get; set; } = 1;
    [BindProperty(SupportsGet = true)] public string? Kind { get; set; }
    [BindProperty] public string? Reason { get; set; }

    public Attempt Attempt { get; private set; } = new();
    public List<ReplayEvent> Events { get; private set; } = [];
    public bool More { get; private set; }
    public VerifyAttemptResponse? Verification { get; private set; }
    public ListCorrectionsResponse Corrections { get; private set; } = new();
    public string? Notice { get; private set; }

    public bool Live => Attempt.Status is AttemptStatus.Scheduled or AttemptStatus.Running && !More;
    public long LastVersion => Events.Count > 0 ? Events[^1].Version : From - 1;

    /// <summary>
    /// Where the live stream starts: after the last row shown, or at the request of a step still running, so that its
    /// completion, rendered by the stream, can show the step's command (the page skips rows it already has).
    /// </summary>
    public long WatchFrom
    {
        get
        {
            var pending = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var e in Events)
            {
                if (e.Text("StepId") is not { } step) continue;
                if (e.Type == "action_requested") pending[step] = e.Version;
                else if (e.Type == "action_completed") pending.Remove(step);
            }
            return pending.Count > 0 ? pending.Values.Min() : LastVersion + 1;
        }
    }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    /// <summary>Chain and seal, checked now by the orchestrator (VerifyAttempt); a break opens the page at the broken event.</summary>
    public async Task<IActionResult> OnPostVerifyAsync(CancellationToken ct)
    {
        Verification = await Api.Audit.VerifyAttemptAsync(new VerifyAttemptRequest { AttemptId = Id }, cancellationToken: ct);
        if (Verification.BrokenAt > 0)
        {
            From = (Verification.BrokenAt - 1) / EventPages.PageSize * EventPages.PageSize + 1;
            Kind = null;
        }
        await LoadAsync(ct);
        return Page();
    }

    /// <summary>
    /// Admin only. The page shows no cancel control to an auditor; a POST made anyway is refused here, before any call,
    /// and the gateway would refuse the call too (its role policy), so neither check relies on the other.
    /// </summary>
    public async Task<IActionResult> OnPostCancelAsync(CancellationToken ct)
    {
        if (!Current.IsAdmin)
        {
            return new ContentResult
            {
                StatusCode = StatusCodes.Status403Forbidden, ContentType = "text/plain; charset=utf-8",
                Content = $"role {Current.RoleName} may not cancel attempts: auditors read, verify and export, never change",
            };
        }
        var reason = string.IsNullOrWhiteSpace(Reason) ? "cancelled from the console" : Reason.Trim();
        try
        {
            await Api.Attempts.CancelAttemptAsync(new CancelAttemptRequest { AttemptId = Id, Reason = reason }, cancellationToken: ct);
            Notice = "Cancelled.";
        }
        catch (RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.FailedPrecondition)
        {
            Notice = $"Not cancelled: {e.Status.Detail}";
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        From = Math.Max(1, From);
        Attempt = await Api.Attempts.GetAttemptAsync(new GetAttemptRequest { AttemptId = Id }, cancellationToken: ct);
        (Events, More) = await EventPages.ReadAsync(Api, Id, From, EventPages.PageSize, ct);
        Corrections = await Api.Audit.ListCorrectionsAsync(new ListCorrectionsRequest { AttemptId = Id }, cancellationToken: ct);
    }

    /// <summary>The kind filter; "corrections" shows only the corrections list (they are a stream of their own).</summary>
    public bool Shown(ReplayEvent e) => Kind switch
    {
        null or "" => true,
        "corrections" => false,
        var k => TimelineKind.Of(e.Type) == k,
    };
}
