namespace ReBench.Sandbox.Gpu.Tests;

/// <summary>
/// Random sequences of create (allocate), destroy (release), environment crash, failed create and service restart on
/// a mixed 8xH100 + 4xA100 node. After every step: no GPU is held by two environments, every live environment holds
/// exactly what it asked for, and after a sweep no dead environment holds anything (nothing leaks).
/// </summary>
public sealed class AllocationPropertyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(20250107)]
    public async Task Random_sequences_never_double_allocate_or_leak(int seed)
    {
        var random = new Random(seed);
        var state = Gpus.TempStateFile(memoryBacked: true);
        var inventory = new GpuInventory("simulated", GpuInventory.Simulate(["H100:8,A100:4"]));
        var inner = new MemoryDriver();
        var driver = Gpus.Driver(inner, inventory, state);
        var expected = new Dictionary<string, (int Count, string Model)>(); // environments the model says hold GPUs
        var next = 0;
        var counts = new Dictionary<string, int>();
        try
        {
            for (var step = 0; step < 3000; step++)
            {
                var live = inner.Live.ToList();
                var action = random.Next(100);
                string op;
                if (action < 45)
                {
                    op = "create";
                    var id = $"env-{next++}";
                    var model = random.Next(3) switch { 0 => "A100", _ => "H100" };
                    var count = random.Next(0, model == "H100" ? 5 : 3);
                    var fail = random.Next(20) == 0;
                    inner.FailNextCreate = fail;
                    try
                    {
                        await driver.CreateAsync(Gpus.Spec(id, count, model), default);
                        Assert.False(fail);
                        expected[id] = (count, model);
                    }
                    catch (SandboxException e) when (e.Error == SandboxError.ResourceExhausted)
                    {
                        inner.FailNextCreate = false;
                        // Refused only when truly busy: fewer free of that model than asked (dead holders already swept).
                        var free = inventory.Devices.Count(d => d.Model == model && driver.Allocator.HolderOf(d.Uuid) is null);
                        Assert.True(free < count, $"step {step}: refused {count} {model} with {free} free");
                        op = "create-refused";
                    }
                    catch (SandboxException e) when (fail && e.Error == SandboxError.InvalidArgument)
                    {
                        op = "create-failed";
                    }
                }
                else if (action < 75 && live.Count > 0)
                {
                    op = "destroy";
                    var id = live[random.Next(live.Count)];
                    Assert.True(await driver.DestroyAsync(id, default));
                    expected.Remove(id);
                }
                else if (action < 90 && live.Count > 0)
                {
                    op = "crash";
                    var id = live[random.Next(live.Count)];
                    inner.Crash(id);
                    expected.Remove(id);
                }
                else if (action < 95)
                {
                    op = "restart";
                    driver = Gpus.Driver(inner, inventory, state);
                }
                else
                {
                    op = "sweep";
                    await driver.ReconcileAsync(default);
                    var records = driver.Allocator.Snapshot().Select(a => a.EnvironmentId).ToHashSet();
                    Assert.Subset(inner.Live.ToHashSet(), records); // after a sweep, only live environments hold GPUs
                }
                counts[op] = counts.GetValueOrDefault(op) + 1;
                CheckInvariants(driver, inner, inventory, expected, step);
            }
            // Drain: destroy everything still live, sweep the crashed; every GPU must be free again.
            foreach (var id in inner.Live.ToList()) await driver.DestroyAsync(id, default);
            await driver.ReconcileAsync(default);
            Assert.Empty(driver.Allocator.Snapshot());
            Assert.All(inventory.Devices, d => Assert.Null(driver.Allocator.HolderOf(d.Uuid)));
            Assert.Empty(Gpus.Driver(inner, inventory, state).Allocator.Snapshot()); // and on disk
            // The sequence really exercised every path.
            foreach (var op in new[] { "create", "create-refused", "create-failed", "destroy", "crash", "restart", "sweep" })
            {
                Assert.True(counts.GetValueOrDefault(op) > 0, $"seed {seed} never did {op}");
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(state)!, true);
        }
    }

    private static void CheckInvariants(GpuAllocatingDriver driver, MemoryDriver inner, GpuInventory inventory,
        Dictionary<string, (int Count, string Model)> expected, int step)
    {
        var records = driver.Allocator.Snapshot();
        var held = records.SelectMany(r => r.GpuUuids).ToList();
        Assert.True(held.Count == held.Distinct().Count(), $"step {step}: a GPU is held twice");
        Assert.All(held, u => Assert.Contains(inventory.Devices, d => d.Uuid == u));
        foreach (var id in inner.Live)
        {
            var record = records.SingleOrDefault(r => r.EnvironmentId == id);
            Assert.True(record is not null, $"step {step}: live environment {id} has no allocation record");
            var (count, model) = expected[id];
            Assert.Equal(count, record.GpuUuids.Count);
            Assert.All(driver.Allocator.DevicesOf(record), d => Assert.Equal(model, d.Model));
        }
        // Records of dead environments may linger until a sweep, but never more than the crashed ones.
        Assert.All(records, r => Assert.True(inner.Live.Contains(r.EnvironmentId) || !expected.ContainsKey(r.EnvironmentId)));
    }
}
