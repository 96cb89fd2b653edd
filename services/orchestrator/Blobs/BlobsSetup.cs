namespace ReBench.Orchestrator.Blobs;

/// <summary>This folder's stored event types and services (<see cref="FeatureSetup"/>).</summary>
public static class BlobsSetup
{
    public static IServiceCollection AddBlobs(this IServiceCollection services)
    {
        // Content-addressed payloads, written in the transaction of the event that references them.
        services.ConfigureMarten(o => o.AddBlobTable(o.DatabaseSchemaName));
        services.AddSingleton<BlobStore>();
        services.AddSingleton<IBlobLookup>(sp => sp.GetRequiredService<BlobStore>());
        return services;
    }
}
