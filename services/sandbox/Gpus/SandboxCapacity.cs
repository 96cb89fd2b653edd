using ReBench.Sandbox.Environments;
using ReBench.Sandbox.V1;

namespace ReBench.Sandbox.Gpus;

public sealed record EnvironmentCensus(int Running, int CpusRequested, long MemoryRequestedMb);

/// <summary>A driver that can say how many environments it runs and what they asked for.</summary>
public interface IEnvironmentCensus
{
    Task<EnvironmentCensus> CountAsync(CancellationToken ct);
}

/// <summary>Builds GetCapacity's answer from the GPU allocator, the driver's census and the node's CPUs and memory.</summary>
public sealed class SandboxCapacity(IEnvironmentDriver driver, GpuAllocator allocator)
{
    public async Task<Capacity> GetAsync(CancellationToken ct)
    {
        var census = driver is IEnvironmentCensus c ? await c.CountAsync(ct) : new EnvironmentCensus(0, 0, 0);
        var (memTotal, memAvailable) = ReadMeminfo();
        var capacity = new Capacity
        {
            Driver = driver.Name,
            Node = System.Environment.MachineName,
            GpuSource = allocator.Inventory.Source,
            CpusTotal = System.Environment.ProcessorCount,
            CpusRequested = census.CpusRequested,
            MemoryTotalMb = memTotal,
            MemoryAvailableMb = memAvailable,
            MemoryRequestedMb = census.MemoryRequestedMb,
            EnvironmentsRunning = census.Running,
        };
        var devices = allocator.Inventory.Devices.Select(d => (Device: d, Holder: allocator.HolderOf(d.Uuid))).ToList();
        foreach (var (d, holder) in devices)
        {
            capacity.Gpus.Add(new V1.GpuDevice
            {
                Index = d.Index, Uuid = d.Uuid, Name = d.Name, Model = d.Model, MemoryMb = d.MemoryMb, EnvironmentId = holder ?? "",
            });
        }
        foreach (var group in devices.GroupBy(x => x.Device.Model, StringComparer.OrdinalIgnoreCase))
        {
            var model = new GpuModelCapacity
            {
                Model = group.Key,
                Total = group.Count(),
                Free = group.Count(x => x.Holder is null),
                Used = group.Count(x => x.Holder is not null),
                MemoryMb = group.Min(x => x.Device.MemoryMb),
            };
            model.FreeUuids.AddRange(group.Where(x => x.Holder is null).Select(x => x.Device.Uuid));
            model.UsedUuids.AddRange(group.Where(x => x.Holder is not null).Select(x => x.Device.Uuid));
            capacity.GpuModels.Add(model);
        }
        return capacity;
    }

    private static (long TotalMb, long AvailableMb) ReadMeminfo()
    {
        long total = 0, available = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2 || !long.TryParse(parts[1], out var kb)) continue;
                if (parts[0] == "MemTotal:") total = kb / 1024;
                else if (parts[0] == "MemAvailable:") available = kb / 1024;
            }
        }
        catch (IOException)
        {
            // Not Linux or /proc hidden: report 0 rather than fail the whole answer.
        }
        return (total, available);
    }
}
