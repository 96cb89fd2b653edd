using System.Diagnostics;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using ReBench.ServiceDefaults;
using ReBench.Testing;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>
/// Issue 21: the platform's own Kubernetes manifests (deploy/k8s), checked offline. Each overlay is rendered as
/// kustomize would (<see cref="Kustomization"/>; where kubectl is installed its own render must agree) and every
/// object is read into KubernetesClient's models in strict mode, which refuses a field the API does not have (the
/// control misspells one). Then the rules the manifests exist for: probes on the gRPC health services, requests,
/// PodDisruptionBudgets, only the gateway reachable from outside, every referenced Secret key present, and the dapr
/// overlay's settings valid for the services' own options class.
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly string Root = Path.Combine(TestEnv.RepoRoot, "deploy", "k8s");
    private static readonly string[] Services = ["orchestrator", "sandbox", "scoring", "agents", "gateway"];

    public static TheoryData<string> Overlays => new() { "base", "overlays/production", "overlays/dapr" };

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_object_of_the_rendered_overlay_matches_the_Kubernetes_API_schema_strictly(string overlay)
    {
        var objects = Kustomization.Render(Path.Combine(Root, overlay));
        var typed = Schema.Validate(objects);
        Assert.Equal(objects.Count, typed.Count);
        Assert.Equal(Services.Length, typed.OfType<V1Deployment>().Count());
    }

    [Fact]
    public void A_misspelled_field_is_refused_by_the_strict_schema_check()
    {
        var objects = Kustomization.Render(Path.Combine(Root, "base"));
        var deployment = objects.Single(o => Kind(o) == "Deployment" && Name(o) == "orchestrator");
        // Control: the object as written passes.
        Schema.Validate([deployment]);

        var container = (Dictionary<string, object?>)Path_(deployment, "spec", "template", "spec", "containers").As<List<object?>>()[0]!;
        container["readynessProbe"] = container["readinessProbe"];
        container.Remove("readinessProbe");
        var e = Assert.ThrowsAny<Exception>(() => Schema.Validate([deployment]));
        Assert.Contains("readynessProbe", e.ToString());
    }

    [Fact]
    public void The_render_agrees_with_kubectl_kustomize_where_kubectl_is_installed()
    {
        // kubectl is not a Debian package of this platform's CI: without it this test checks nothing (and says so in its name).
        if (Kubectl() is not { } kubectl) return;
        foreach (var overlay in new[] { "base", "overlays/production", "overlays/dapr" })
        {
            var ours = Schema.Validate(Kustomization.Render(Path.Combine(Root, overlay))).Select(Canonical).Order().ToList();
            var psi = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Root, overlay)]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
            var theirs = KubernetesYaml.LoadAllFromString(output, Schema.TypeMap, strict: true).Select(Canonical).Order().ToList();
            Assert.Equal(theirs.Count, ours.Count);
            // Pairwise, so a failure shows the whole object that differs.
            foreach (var (t, o) in theirs.Zip(ours)) Assert.Equal(t, o);
        }
    }

    [Fact]
    public void Services_have_health_probes_requests_disruption_budgets_and_only_the_gateway_is_reachable_from_outside()
    {
        var typed = Schema.Validate(Kustomization.Render(Path.Combine(Root, "overlays/production")));
        var deployments = typed.OfType<V1Deployment>().ToList();
        var budgets = typed.OfType<V1PodDisruptionBudget>().ToList();
        Assert.Equal(Services.Order(), deployments.Select(d => d.Metadata.Name).Order());
        foreach (var d in deployments)
        {
            var c = Assert.Single(d.Spec.Template.Spec.Containers);
            var port = c.Ports.Single(p => p.Name == "grpc").ContainerPort;
            Assert.Equal(port, c.ReadinessProbe.Grpc.Port);
            Assert.True(string.IsNullOrEmpty(c.ReadinessProbe.Grpc.Service), "readiness must ask the '' service (every check)");
            Assert.Equal((port, ServiceDefaultsExtensions.LivenessService), (c.LivenessProbe.Grpc.Port, c.LivenessProbe.Grpc.Service));
            Assert.True(c.Resources.Requests.ContainsKey("cpu") && c.Resources.Requests.ContainsKey("memory"), d.Metadata.Name);
            Assert.True(d.Spec.Template.Spec.SecurityContext.RunAsNonRoot, d.Metadata.Name);
            Assert.Contains(budgets, b => b.Spec.Selector.MatchLabels.SequenceEqual(d.Spec.Selector.MatchLabels));
            // The pod carries the label the platform's NetworkPolicies select on.
            Assert.Equal("rebench", d.Spec.Template.Metadata.Labels["app.kubernetes.io/part-of"]);
        }
        // A single-replica service must not have a budget that blocks every drain.
        Assert.DoesNotContain(budgets, b => b.Spec.MinAvailable?.Value == "1"
            && deployments.Single(d => d.Metadata.Name == b.Metadata.Name).Spec.Replicas == 1);

        var policies = typed.OfType<V1NetworkPolicy>().ToList();
        foreach (var ns in new[] { "rebench", "rebench-envs" })
        {
            Assert.Contains(policies, p => p.Metadata.NamespaceProperty == ns && p.Spec.PodSelector.MatchLabels is null
                && p.Spec.PolicyTypes.Order().SequenceEqual(["Egress", "Ingress"]) && p.Spec.Ingress is null && p.Spec.Egress is null);
        }
        // Ingress open to any source: only the gateway's public port.
        var open = policies.Where(p => p.Spec.Ingress?.Any(r => r.FromProperty is null) == true).ToList();
        var gateway = Assert.Single(open);
        Assert.Equal("gateway", gateway.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"]);
        Assert.Equal("5100", Assert.Single(Assert.Single(gateway.Spec.Ingress).Ports).Port.Value);
        Assert.Equal("LoadBalancer", typed.OfType<V1Service>().Single(s => s.Metadata.Name == "gateway").Spec.Type);
        Assert.All(typed.OfType<V1Service>().Where(s => s.Metadata.Name != "gateway"), s => Assert.Null(s.Spec.Type));

        // Every Secret key a container reads exists.
        var secrets = typed.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name, s => s.StringData.Keys.ToHashSet());
        foreach (var d in deployments)
        {
            foreach (var env in d.Spec.Template.Spec.Containers[0].Env.Where(e => e.ValueFrom?.SecretKeyRef is not null))
                Assert.Contains(env.ValueFrom.SecretKeyRef.Key, secrets[env.ValueFrom.SecretKeyRef.Name]);
            foreach (var v in d.Spec.Template.Spec.Volumes.Where(v => v.Secret is not null))
                Assert.True(secrets.ContainsKey(v.Secret.SecretName) && (v.Secret.Items ?? []).All(i => secrets[v.Secret.SecretName].Contains(i.Key)));
        }
    }

    [Fact]
    public void The_dapr_overlay_gives_every_service_a_sidecar_and_secret_settings_its_options_accept()
    {
        var typed = Schema.Validate(Kustomization.Render(Path.Combine(Root, "overlays/dapr")));
        var store = Assert.Single(typed.OfType<DaprComponent>());
        Assert.Equal("secretstores.kubernetes", store.Spec.Type);
        var secrets = typed.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name, s => s.StringData.Keys.ToHashSet());
        foreach (var d in typed.OfType<V1Deployment>())
        {
            Assert.Equal("true", d.Spec.Template.Metadata.Annotations["dapr.io/enabled"]);
            Assert.Equal(d.Metadata.Name, d.Spec.Template.Metadata.Annotations["dapr.io/app-id"]);
            // The container's environment as the service reads it (Dapr__X__Y is Dapr:X:Y).
            var config = new ConfigurationBuilder().AddInMemoryCollection(d.Spec.Template.Spec.Containers[0].Env
                .Where(e => e.Value is not null).Select(e => KeyValuePair.Create(e.Name.Replace("__", ":"), (string?)e.Value))).Build();
            var options = config.GetSection(DaprSecretsOptions.Section).Get<DaprSecretsOptions>()!;
            Assert.True(options.Enabled);
            Assert.Empty(options.Problems());
            Assert.Equal(store.Metadata.Name, options.SecretStore);
            Assert.Contains(options.Secrets, s => s.Setting == "Platform:Key");
            Assert.All(options.Secrets, s => Assert.Contains(s.Key, secrets[s.Secret]));
        }
    }

    /// <summary>The object's JSON with every map's keys sorted (kubectl sorts them; the renderer keeps insertion order).</summary>
    private static string Canonical(object o)
    {
        static System.Text.Json.Nodes.JsonNode? Sort(System.Text.Json.Nodes.JsonNode? n) => n switch
        {
            System.Text.Json.Nodes.JsonObject obj => new System.Text.Json.Nodes.JsonObject(obj.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, Sort(kv.Value?.DeepClone())))),
            System.Text.Json.Nodes.JsonArray arr => new System.Text.Json.Nodes.JsonArray(arr.Select(i => Sort(i?.DeepClone())).ToArray()),
            _ => n?.DeepClone(),
        };
        return Sort(System.Text.Json.Nodes.JsonNode.Parse(KubernetesJson.Serialize(o)))!.ToJsonString();
    }

    private static string? Kubectl() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);

    private static string? Kind(Dictionary<string, object?> o) => o.GetValueOrDefault("kind") as string;
    private static string? Name(Dictionary<string, object?> o) => (o.GetValueOrDefault("metadata") as Dictionary<string, object?>)?.GetValueOrDefault("name") as string;

    private static object? Path_(Dictionary<string, object?> o, params string[] keys)
    {
        object? at = o;
        foreach (var k in keys) at = ((Dictionary<string, object?>)at!)[k];
        return at;
    }
}

internal static class ObjectExtensions
{
    public static T As<T>(this object? o) => (T)o!;
}

/// <summary>
/// The part of kustomize these manifests use (kustomize itself is not packaged here): resources (files and
/// kustomization directories), labels (metadata only), images (newName/newTag) and patches (strategic merge: maps
/// merge, lists of named items merge by name with new items first, other values replace). Anything else in a kustomization is refused, so
/// a manifest change that needs more fails here rather than rendering differently from kubectl.
/// </summary>
internal static class Kustomization
{
    private static readonly HashSet<string> Known = ["apiVersion", "kind", "resources", "labels", "images", "patches"];

    public static List<Dictionary<string, object?>> Render(string dir)
    {
        var k = Load(File.ReadAllText(Path.Combine(dir, "kustomization.yaml"))).Single();
        if (k.Keys.FirstOrDefault(key => !Known.Contains(key)) is { } unknown) throw new NotSupportedException($"{dir}: kustomization field {unknown}");
        var objects = new List<Dictionary<string, object?>>();
        foreach (var r in Items(k, "resources").Cast<string>())
        {
            var path = Path.GetFullPath(Path.Combine(dir, r));
            objects.AddRange(Directory.Exists(path) ? Render(path) : Load(File.ReadAllText(path)));
        }
        foreach (var pairs in Items(k, "labels").Cast<Dictionary<string, object?>>().Select(l => (Dictionary<string, object?>)l["pairs"]!))
        {
            foreach (var o in objects)
            {
                var meta = (Dictionary<string, object?>)o["metadata"]!;
                if (meta.GetValueOrDefault("labels") is not Dictionary<string, object?> labels) meta["labels"] = labels = [];
                foreach (var (key, value) in pairs) labels[key] = value;
            }
        }
        foreach (var image in Items(k, "images").Cast<Dictionary<string, object?>>())
        {
            foreach (var c in objects.SelectMany(Containers).Where(c => ((string)c["image"]!).Split(':')[0] == (string)image["name"]!))
                c["image"] = $"{image.GetValueOrDefault("newName") ?? image["name"]}:{image.GetValueOrDefault("newTag") ?? "latest"}";
        }
        foreach (var patch in Items(k, "patches").Cast<Dictionary<string, object?>>().SelectMany(p => Load(File.ReadAllText(Path.Combine(dir, (string)p["path"]!)))))
        {
            var target = objects.SingleOrDefault(o => Same(o, patch)) ?? throw new InvalidOperationException($"patch {patch["kind"]} {Meta(patch, "name")} has no target");
            Merge(target, patch);
        }
        return objects;
    }

    private static IEnumerable<object?> Items(Dictionary<string, object?> k, string key) => k.GetValueOrDefault(key) as List<object?> ?? [];

    private static IEnumerable<Dictionary<string, object?>> Containers(Dictionary<string, object?> o) =>
        o.GetValueOrDefault("spec") is Dictionary<string, object?> spec && spec.GetValueOrDefault("template") is Dictionary<string, object?> t
            && t.GetValueOrDefault("spec") is Dictionary<string, object?> pod && pod.GetValueOrDefault("containers") is List<object?> cs
            ? cs.Cast<Dictionary<string, object?>>() : [];

    private static string? Meta(Dictionary<string, object?> o, string key) => (o["metadata"] as Dictionary<string, object?>)?.GetValueOrDefault(key) as string;

    private static bool Same(Dictionary<string, object?> a, Dictionary<string, object?> b) =>
        Equals(a["kind"], b["kind"]) && Meta(a, "name") == Meta(b, "name") && Meta(a, "namespace") == Meta(b, "namespace");

    private static void Merge(Dictionary<string, object?> into, Dictionary<string, object?> patch)
    {
        foreach (var (key, value) in patch)
        {
            if (into.GetValueOrDefault(key) is Dictionary<string, object?> a && value is Dictionary<string, object?> b) Merge(a, b);
            else if (into.GetValueOrDefault(key) is List<object?> list && value is List<object?> items && items.All(i => i is Dictionary<string, object?> d && d.ContainsKey("name")))
            {
                // As kustomize's strategic merge: named items merge into theirs, new ones go first, in the patch's order.
                var added = 0;
                foreach (var item in items.Cast<Dictionary<string, object?>>())
                {
                    if (list.OfType<Dictionary<string, object?>>().FirstOrDefault(e => Equals(e.GetValueOrDefault("name"), item["name"])) is { } existing) Merge(existing, item);
                    else list.Insert(added++, item);
                }
            }
            else into[key] = value;
        }
    }

    public static List<Dictionary<string, object?>> Load(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        var docs = new List<Dictionary<string, object?>>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            if (Normalize(deserializer.Deserialize(parser)) is Dictionary<string, object?> d) docs.Add(d);
        }
        return docs;
    }

    private static object? Normalize(object? o) => o switch
    {
        Dictionary<object, object?> map => map.ToDictionary(kv => (string)kv.Key, kv => Normalize(kv.Value)),
        List<object?> list => list.Select(Normalize).ToList(),
        _ => o,
    };
}

/// <summary>Strict reading into KubernetesClient's models: an unknown field or a value of the wrong shape throws.</summary>
internal static class Schema
{
    /// <summary>The models KubernetesClient lacks: Dapr's Component (its CRD's fields).</summary>
    public static readonly Dictionary<string, Type> TypeMap = new() { ["dapr.io/v1alpha1/Component"] = typeof(DaprComponent) };

    public static List<object> Validate(IEnumerable<Dictionary<string, object?>> objects)
    {
        var serializer = new SerializerBuilder().Build();
        var yaml = string.Join("---\n", objects.Select(o => serializer.Serialize(o)));
        return KubernetesYaml.LoadAllFromString(yaml, TypeMap, strict: true).ToList();
    }
}

public sealed class DaprComponent : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public DaprComponentSpec Spec { get; set; } = new();
}

public sealed class DaprComponentSpec
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("version")] public string Version { get; set; } = "";
    [JsonPropertyName("ignoreErrors")] public bool? IgnoreErrors { get; set; }
    [JsonPropertyName("initTimeout")] public string? InitTimeout { get; set; }
    [JsonPropertyName("metadata")] public List<DaprMetadataItem> Metadata { get; set; } = [];
}

public sealed class DaprMetadataItem
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("value")] public string? Value { get; set; }
    [JsonPropertyName("secretKeyRef")] public Dictionary<string, string>? SecretKeyRef { get; set; }
}
