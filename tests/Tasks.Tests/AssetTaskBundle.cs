using System.Security.Cryptography;

namespace ReBench.Tasks.Tests;

/// <summary>
/// A small bundle, asset_task, whose `main` variant needs two operator assets (one for the home, one for the
/// protected area) and whose `cpu` variant needs none; and where those assets go under an asset root.
/// </summary>
internal static class AssetTaskBundle
{
    public const string Id = "asset_task";
    public static readonly byte[] Weights = "fake weights"u8.ToArray();
    public static readonly byte[] Split = "fake held-out split"u8.ToArray();

    public static void Write(string tasksRoot)
    {
        var bundle = Path.Combine(tasksRoot, Id);
        WriteText(bundle, "manifest.yaml", """
            format_version: 1
            id: asset_task
            version: 1.0.0
            title: Needs operator assets
            resources: { cpus: 1, memory_mb: 256 }
            scoring:
              raw_score: a number
              direction: higher
              aggregation: max
              start: 0.0
              reference: 1.0
              measured_by: by hand
            variants:
              - name: main
                instructions: instructions.md
              - name: cpu
                instructions: instructions.md
            """);
        WriteText(bundle, "instructions.md", "do it");
        WriteText(bundle, "agent/README.md", "start");
        WriteText(bundle, "scoring/score.py", "print('{\"score\": 1}')");
        WriteText(bundle, "reference/solution.txt", "ref");
        WriteText(bundle, "variants/main/assets.yaml", $"""
            format: 1
            assets:
              - path: models/weights.bin
                into: home
                size_bytes: {Weights.Length}
                sha256: {Sha(Weights)}
                source: a test
              - path: data/test.jsonl
                into: protected
                size_bytes: {Split.Length}   # a comment, as the real manifests have
                sha256: {Sha(Split)}
              - path: extra/optional.bin
                into: home
                optional: true
                size_bytes: OPERATOR_SUPPLIED
                sha256: OPERATOR_SUPPLIED
              - path: shipped.bin
                into: home
                bundled: true
                size_bytes: 3
                sha256: {Sha("abc"u8.ToArray())}
            secrets:
              - name: SOME_KEY
            """);
    }

    /// <summary>Puts the given assets where the verifier looks: &lt;root&gt;/asset_task/&lt;into&gt;/&lt;path&gt;.</summary>
    public static void PutAssets(string assetRoot, byte[]? weights = null, byte[]? split = null)
    {
        if (weights is not null) WriteBytes(Path.Combine(assetRoot, Id, "home", "models", "weights.bin"), weights);
        if (split is not null) WriteBytes(Path.Combine(assetRoot, Id, "protected", "data", "test.jsonl"), split);
    }

    public static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static void WriteText(string dir, string relative, string text) =>
        WriteBytes(Path.Combine(dir, relative), System.Text.Encoding.UTF8.GetBytes(text));

    public static void WriteBytes(string path, byte[] data)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
    }
}
