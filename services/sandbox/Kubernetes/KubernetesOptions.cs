namespace ReBench.Sandbox.Kubernetes;

/// <summary>The "Sandbox:Kubernetes" configuration section, used when Sandbox:Driver is "kubernetes".</summary>
public sealed class KubernetesOptions
{
    /// <summary>API server URL. Empty: the kubeconfig (<see cref="Kubeconfig"/> or the default), else in-cluster config.</summary>
    public string ApiServer { get; set; } = "";
    /// <summary>Bearer token for <see cref="ApiServer"/>; or <see cref="TokenFile"/>.</summary>
    public string Token { get; set; } = "";
    public string TokenFile { get; set; } = "";
    public bool SkipTlsVerify { get; set; }
    public string Kubeconfig { get; set; } = "";
    public string Context { get; set; } = "";

    public string Namespace { get; set; } = "rebench";
    /// <summary>The task image; it needs bash, coreutils (timeout, head, stat) and whatever the task itself needs.</summary>
    public string Image { get; set; } = "python:3.11-bookworm";
    public string ImagePullPolicy { get; set; } = "IfNotPresent";
    /// <summary>Optional RuntimeClass (e.g. "nvidia" where the GPU runtime is not the default).</summary>
    public string RuntimeClassName { get; set; } = "";
    public string GpuResource { get; set; } = "nvidia.com/gpu";
    /// <summary>Node label whose value is the short GPU model ("H100"); a request's gpu_model becomes a nodeSelector on it.</summary>
    public string GpuModelLabel { get; set; } = "rebench.dev/gpu-model";
    public long RunAsUser { get; set; } = 1000;
    public string HomePath { get; set; } = "/home/agent";
    public string ProtectedPath { get; set; } = "/protected";
    /// <summary>Bundles travel as ConfigMaps, which the API server caps at 1 MiB each (base64 and metadata included).</summary>
    public long MaxBundleBytes { get; set; } = 700 * 1024;
    public int PodStartTimeoutSeconds { get; set; } = 300;
    public int PollMilliseconds { get; set; } = 1000;
}
