namespace ReBench.Sandbox.Gpu.Tests;

public sealed class NvidiaSmiParserTests
{
    [Fact]
    public void Parses_an_8xH100_node()
    {
        var result = NvidiaSmiParser.Parse(Gpus.TestData("nvidia-smi-8xH100-SXM5.csv"));
        Assert.Empty(result.Rejected);
        Assert.Equal(Enumerable.Range(0, 8), result.Devices.Select(d => d.Index));
        Assert.All(result.Devices, d =>
        {
            Assert.Equal("NVIDIA H100 80GB HBM3", d.Name);
            Assert.Equal("H100", d.Model);
            Assert.Equal(81559, d.MemoryMb);
            Assert.Equal("535.129.03", d.DriverVersion);
            Assert.Matches("^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", d.Uuid);
        });
        Assert.Equal("GPU-92606991-c177-ad69-644d-33ca4081294f", result.Devices[0].Uuid);
        Assert.Equal(8, result.Devices.Select(d => d.Uuid).Distinct().Count());
    }

    [Fact]
    public void Parses_a_4xA100_node()
    {
        var result = NvidiaSmiParser.Parse(Gpus.TestData("nvidia-smi-4xA100-SXM4-80GB.csv"));
        Assert.Empty(result.Rejected);
        Assert.Equal(4, result.Devices.Count);
        Assert.All(result.Devices, d => Assert.Equal(("NVIDIA A100-SXM4-80GB", "A100", 81920L), (d.Name, d.Model, d.MemoryMb)));
        Assert.Equal("GPU-748c99f3-3fef-93f3-6a82-587a2002ce36", result.Devices[3].Uuid);
    }

    [Fact]
    public void Keeps_well_formed_lines_and_names_the_problem_of_each_malformed_one()
    {
        var result = NvidiaSmiParser.Parse(Gpus.TestData("nvidia-smi-malformed.csv"));
        Assert.Equal([0, 5], result.Devices.Select(d => d.Index));
        Assert.Equal(7, result.Rejected.Count);
        Assert.Contains(result.Rejected, r => r.Contains("memory.total '[N/A]'"));
        Assert.Contains(result.Rejected, r => r.Contains("expected 5 comma-separated fields, found 3"));
        Assert.Contains(result.Rejected, r => r.Contains("index 'x' is not a number"));
        Assert.Contains(result.Rejected, r => r.Contains("uuid 'not-a-uuid' is not a GPU UUID"));
        Assert.Contains(result.Rejected, r => r.Contains("index 0 repeated"));
        Assert.Contains(result.Rejected, r => r.Contains("uuid GPU-1c006e6d-abc3-8fa6-a774-3e71c976f1ad repeated"));
        Assert.Contains(result.Rejected, r => r.Contains("Unable to determine the device handle"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("No devices were found\n")]
    public void A_node_without_GPUs_has_an_empty_inventory(string output)
    {
        var result = NvidiaSmiParser.Parse(output);
        Assert.Empty(result.Devices);
        Assert.Empty(result.Rejected);
    }

    [Theory]
    [InlineData("NVIDIA H100 80GB HBM3", "H100")]
    [InlineData("NVIDIA H100 PCIe", "H100")]
    [InlineData("NVIDIA A100-SXM4-80GB", "A100")]
    [InlineData("Tesla V100-SXM2-16GB", "V100")]
    [InlineData("NVIDIA GeForce RTX 4090", "RTX 4090")]
    [InlineData("NVIDIA L4", "L4")]
    public void Short_models(string name, string model)
    {
        var device = new GpuDevice(0, "GPU-00000000-0000-0000-0000-000000000000", name, 1, "x");
        Assert.Equal(model, device.Model);
        Assert.True(device.Matches(model.ToLowerInvariant()));
        Assert.True(device.Matches(name));
    }

    [Fact]
    public void Simulated_inventory_is_stable_and_named_like_real_devices()
    {
        var first = GpuInventory.Simulate(["H100:8,A100:4"]);
        var again = GpuInventory.Simulate(["H100:8", "A100:4"]);
        Assert.Equal(12, first.Count);
        Assert.Equal(first.Select(d => d.Uuid), again.Select(d => d.Uuid));
        Assert.Equal("NVIDIA H100 80GB HBM3", first[0].Name);
        Assert.Equal(("A100", 8), (first[8].Model, first[8].Index));
        Assert.Throws<InvalidOperationException>(() => GpuInventory.Simulate(["H100"]));
        Assert.Throws<InvalidOperationException>(() => GpuInventory.Simulate(["H100:-1"]));
    }
}
