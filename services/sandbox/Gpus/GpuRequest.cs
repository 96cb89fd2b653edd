using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Gpus;

/// <summary>A syntactically valid GPU request: the count is in range; whether the node can ever satisfy it is the allocator's question.</summary>
public sealed record GpuRequest(int Count, string Model)
{
    public static GpuRequest None { get; } = new(0, "");

    public bool AnyModel => Model.Length == 0;

    public string Describe() => AnyModel ? $"{Count} GPUs of any model" : $"{Count} GPUs of model {Model}";

    public static GpuRequest From(ResourceSpec? resources, int maxPerEnvironment)
    {
        if (resources is null) return None;
        var count = resources.GpuCount;
        var model = (resources.GpuModel ?? "").Trim();
        if (count < 0) throw SandboxException.Invalid($"resources.gpu_count {count} is negative");
        if (count > maxPerEnvironment)
        {
            throw SandboxException.Invalid(
                $"resources.gpu_count {count} exceeds the per-environment limit of {maxPerEnvironment} (Sandbox:Gpus:MaxPerEnvironment)");
        }
        if (model.Contains('\0') || model.Length > 128) throw SandboxException.Invalid("resources.gpu_model is not a model name");
        // A model with count 0 asks for nothing; tasks state their model even in variants that use no GPU.
        return count == 0 ? None : new GpuRequest(count, model);
    }
}
