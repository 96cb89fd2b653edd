using Marten.Linq.MatchesSql;
using ReBench.Orchestrator.Campaigns;
using ReBench.Orchestrator.Storage;
using ReBench.Orchestrator.V1;
using ReBench.ServiceDefaults;
using static ReBench.Orchestrator.Grpc.ApiCalls;

namespace ReBench.Orchestrator.Grpc;

/// <summary>gRPC adapter of the public Campaigns service: create, read and list campaigns.</summary>
public sealed class CampaignsGrpc(CampaignCreation creation, CampaignStore campaigns, IDocumentStore store) : V1.Campaigns.CampaignsBase
{
    private const string PageKind = "campaigns";

    public override async Task<Campaign> CreateCampaign(CreateCampaignRequest request, ServerCallContext context)
    {
        var id = await creation.CreateAsync(request, Caller(context), context.CancellationToken);
        return await LoadAsync(id, context.CancellationToken);
    }

    public override Task<Campaign> GetCampaign(GetCampaignRequest request, ServerCallContext context) =>
        LoadAsync(CampaignId(request.CampaignId), context.CancellationToken);

    /// <summary>Newest first, keyset-paged by (created_at, id) (<see cref="PageToken"/>).</summary>
    public override async Task<ListCampaignsResponse> ListCampaigns(ListCampaignsRequest request, ServerCallContext context)
    {
        var size = PageToken.Size(request.PageSize);
        var after = PageToken.Decode(request.PageToken, PageKind);
        await using var session = store.QuerySession();
        IQueryable<CampaignView> q = session.Query<CampaignView>();
        if (after is not null) q = q.Where(c => c.MatchesSql(After("CreatedAt"), Iso(after.At), after.Id));
        // One more than the page: whether a next page exists without a second query.
        var views = await q.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(size + 1).ToListAsync(context.CancellationToken);
        var response = new ListCampaignsResponse();
        foreach (var v in views.Take(size)) response.Campaigns.Add(await LoadAsync(v.Id, context.CancellationToken));
        if (views.Count > size) response.NextPageToken = new PageToken(views[size - 1].CreatedAt, views[size - 1].Id).Encode(PageKind);
        return response;
    }

    private async Task<Campaign> LoadAsync(Guid id, CancellationToken ct)
    {
        var state = await campaigns.TryLoadAsync(id, ct) ?? throw Guard.NotFound($"campaign {id} does not exist");
        await using var session = store.QuerySession();
        var attempts = await session.Query<AttemptView>().Where(a => a.CampaignId == id).ToListAsync(ct);
        return state.ToProto(attempts);
    }
}
