using Google.Protobuf.Reflection;

namespace ReBench.Orchestrator.Tests;

/// <summary>
/// A campaign of scheduled attempts written straight to the campaign store in one transaction (the scheduler of the
/// test host starts nothing), as the tests that drive the stores directly need it: one task "t"/"cpu", one agent.
/// </summary>
internal static class ScheduledCampaign
{
    public static async Task<(Guid Campaign, Guid[] Attempts)> CreateAsync(
        IServiceProvider services, string name, int attempts, DateTimeOffset at, string agent = "noop",
        Dictionary<string, string>? settings = null, TimeSpan? attemptBudget = null, TimeSpan? campaignBudget = null)
    {
        var campaignId = Guid.NewGuid();
        var budget = attemptBudget ?? TimeSpan.FromHours(1);
        var scheduled = Enumerable.Range(0, attempts).Select(i => new AttemptScheduled(
            Guid.NewGuid(), campaignId, "t", "cpu", agent, settings ?? [], i, budget, "test", at)).ToList();
        await services.GetRequiredService<CampaignStore>().CreateAsync(new CampaignCreated(campaignId, name, [new("t", "cpu")],
            [new(agent, [])], attempts, campaignBudget ?? budget, [.. scheduled.Select(s => s.AttemptId)], null, "test", at),
            scheduled, CancellationToken.None);
        return (campaignId, [.. scheduled.Select(s => s.AttemptId)]);
    }
}

/// <summary>
/// A gRPC method of the orchestrator's protos looked up by name at run time, for calls the generated clients do not
/// make (a method another service owns, raw headers, a request the generated client would not send).
/// </summary>
internal static class MethodByName
{
    public static Method<TReq, TRes> Of<TReq, TRes>(MethodType type, string name, MessageParser<TRes> parser, params FileDescriptor[] files)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new(type, files.SelectMany(f => f.Services).Single(s => s.FindMethodByName(name) is not null).FullName, name,
            Marshallers.Create<TReq>(m => m.ToByteArray(), _ => throw new NotSupportedException()),
            Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom));

    public static Task<TRes> UnaryAsync<TReq, TRes>(GrpcChannel channel, string name, TReq request, MessageParser<TRes> parser,
        Metadata? headers, params FileDescriptor[] files)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        channel.CreateCallInvoker().AsyncUnaryCall(Of<TReq, TRes>(MethodType.Unary, name, parser, files), null, new CallOptions(headers), request).ResponseAsync;
}
