using Grpc.Core;
using Grpc.Net.Client;
using ReBench.Scoring.Assets;
using ReBench.Scoring.V1;

namespace ReBench.Tasks.Tests;

/// <summary>
/// Provisioning refuses a variant whose operator-provided assets (variants/NAME/assets.yaml) are missing or differ:
/// a small test bundle with fake assets in a temporary asset root, and the repository's CPU variants (none needed).
/// </summary>
public sealed class AssetTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rebench-assets-").FullName;
    private string Tasks => Path.Combine(_root, "tasks");
    private string AssetRoot => Path.Combine(_root, "assets");
    private static byte[] Weights => AssetTaskBundle.Weights;
    private static byte[] Split => AssetTaskBundle.Split;

    public AssetTests() => AssetTaskBundle.Write(Tasks);

    private TaskCatalog Catalog() => TaskCatalog.Load(Tasks);

    private void PutAssets(byte[]? weights = null, byte[]? split = null) => AssetTaskBundle.PutAssets(AssetRoot, weights, split);

    [Fact]
    public void All_assets_present_lets_the_variant_start_and_digests_are_cached()
    {
        PutAssets(Weights, Split);
        var catalog = Catalog();
        Assert.Empty(catalog.Problems);
        var verifier = new AssetVerifier(catalog, AssetRoot);
        var main = catalog.Resolve("asset_task", "main");
        Assert.Empty(verifier.Problems(main)); // the optional asset is absent, the bundled one is the bundle's business
        verifier.EnsureReady(main);
        Assert.Equal(2, verifier.DigestsComputed);
        Assert.Empty(verifier.Problems(main));
        Assert.Equal(2, verifier.DigestsComputed); // same (path, size, mtime): from the cache

        var weights = Path.Combine(AssetRoot, "asset_task", "home", "models", "weights.bin");
        File.WriteAllBytes(weights, "fake weightz"u8.ToArray()); // same size, new content and mtime
        File.SetLastWriteTimeUtc(weights, DateTime.UtcNow.AddMinutes(1));
        var problem = Assert.Single(verifier.Problems(main));
        Assert.Equal(3, verifier.DigestsComputed);
        Assert.Contains("home/models/weights.bin: sha256 differs", problem);
    }

    [Fact]
    public void Missing_assets_are_each_named_with_the_expected_digest()
    {
        var catalog = Catalog();
        var verifier = new AssetVerifier(catalog, AssetRoot);
        var problems = verifier.Problems(catalog.Resolve("asset_task", "main"));
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("home/models/weights.bin: missing") && p.Contains($"expected sha256 {Sha(Weights)}, size {Weights.Length}"));
        Assert.Contains(problems, p => p.StartsWith("protected/data/test.jsonl: missing") && p.Contains(Sha(Split)));

        var e = Assert.Throws<RpcException>(() => verifier.EnsureReady(catalog.Resolve("asset_task", "main")));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("2 asset(s) missing or different", e.Status.Detail);
        Assert.Contains("home/models/weights.bin", e.Status.Detail);
        Assert.Contains("protected/data/test.jsonl", e.Status.Detail);

        var unconfigured = new AssetVerifier(catalog, null);
        Assert.All(unconfigured.Problems(catalog.Resolve("asset_task", "main")), p => Assert.Contains(AssetVerifier.RootKey + " is not configured", p));
    }

    [Fact]
    public void A_wrong_digest_or_size_is_named_with_expected_and_actual()
    {
        var tampered = "fake weightZ"u8.ToArray();
        PutAssets(tampered, "short"u8.ToArray());
        var catalog = Catalog();
        var problems = new AssetVerifier(catalog, AssetRoot).Problems(catalog.Resolve("asset_task", "main"));
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("home/models/weights.bin: sha256 differs") && p.Contains($"expected sha256 {Sha(Weights)}") && p.Contains($"actual sha256 {Sha(tampered)}"));
        Assert.Contains(problems, p => p.StartsWith("protected/data/test.jsonl: size differs") && p.Contains($"size {Split.Length}") && p.Contains("actual size 5"));
    }

    [Fact]
    public void An_unpinned_operator_supplied_asset_is_refused_with_its_actual_digest()
    {
        PutAssets(Weights, Split);
        WriteBytes(Path.Combine(AssetRoot, "asset_task", "home", "extra", "optional.bin"), "x"u8.ToArray());
        var catalog = Catalog();
        var problem = Assert.Single(new AssetVerifier(catalog, AssetRoot).Problems(catalog.Resolve("asset_task", "main")));
        Assert.Contains("home/extra/optional.bin: not pinned", problem);
        Assert.Contains(Sha("x"u8.ToArray()), problem);
    }

    [Fact]
    public void Cpu_variants_need_no_assets()
    {
        var catalog = Catalog();
        Assert.Empty(new AssetVerifier(catalog, null).Problems(catalog.Resolve("asset_task", "cpu")));
        var repo = BundleScorer.Catalog;
        var verifier = new AssetVerifier(repo, null);
        var cpu = repo.Bundles.SelectMany(b => b.Variants).Where(v => v.Name == "cpu").ToList();
        Assert.Equal(7, cpu.Count);
        foreach (var v in cpu) Assert.Empty(verifier.Problems(v));
        // The official variants' manifests all parse, and without an asset root the six that need assets are refused;
        // the kernel task generates its input at scoring time and ships no asset manifest.
        var main = repo.Bundles.SelectMany(b => b.Variants).Where(v => v.Name == "main").ToList();
        Assert.Equal(7, main.Count);
        Assert.Equal(["ai_rd_triton_cumsum"], main.Where(v => verifier.Problems(v).Count == 0).Select(v => v.TaskId));
    }

    [Fact]
    public async Task PrepareEnvironment_answers_failed_precondition_listing_the_assets()
    {
        var builder = WebApplication.CreateBuilder();
        var port = TestEnv.FreePort();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scoring:TasksRoot"] = Tasks, [AssetVerifier.RootKey] = AssetRoot, ["Services:Sandbox"] = $"http://127.0.0.1:{TestEnv.FreePort()}",
            ["Service:Port"] = port.ToString(), [TestPlatformKey.Setting.Key] = TestPlatformKey.Key,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults("scoring", port);
        builder.AddScoring();
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapScoring();
        await app.StartAsync();
        try
        {
            using var channel = TestPlatformKey.Channel($"http://127.0.0.1:{port}");
            var prepare = new Method<PrepareEnvironmentRequest, PrepareEnvironmentResult>(MethodType.Unary, "rebench.scoring.v1.Scoring", "PrepareEnvironment",
                Marshallers.Create(m => m.ToByteArray(), PrepareEnvironmentRequest.Parser.ParseFrom),
                Marshallers.Create(m => m.ToByteArray(), PrepareEnvironmentResult.Parser.ParseFrom));
            PutAssets(weights: Weights); // the protected split is missing
            var e = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(prepare, null, new CallOptions(),
                new PrepareEnvironmentRequest { AttemptId = "a1", TaskId = "asset_task", Variant = "main", EnvironmentId = "env1" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("protected/data/test.jsonl: missing", e.Status.Detail);
            Assert.DoesNotContain("weights.bin", e.Status.Detail);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static string Sha(byte[] data) => AssetTaskBundle.Sha(data);

    private static void WriteBytes(string path, byte[] data) => AssetTaskBundle.WriteBytes(path, data);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
