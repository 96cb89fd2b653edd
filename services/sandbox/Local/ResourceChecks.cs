using ReBench.Sandbox.Environments;

namespace ReBench.Sandbox.Local;

/// <summary>Refuses resource requests no environment on this node could ever have (GPUs are the allocator's).</summary>
internal static class ResourceChecks
{
    public static void Check(ResourceSpec? r, string root)
    {
        if (r is null) return;
        if (r.Cpus < 0) throw SandboxException.Invalid($"resources.cpus {r.Cpus} is negative");
        if (r.MemoryMb < 0) throw SandboxException.Invalid($"resources.memory_mb {r.MemoryMb} is negative");
        if (r.DiskMb < 0) throw SandboxException.Invalid($"resources.disk_mb {r.DiskMb} is negative");
        if (r.Cpus > Environment.ProcessorCount)
        {
            throw SandboxException.Invalid($"resources.cpus {r.Cpus} exceeds this node's {Environment.ProcessorCount} CPUs");
        }
        var memoryMb = MemTotalMb();
        if (memoryMb > 0 && r.MemoryMb > memoryMb)
        {
            throw SandboxException.Invalid($"resources.memory_mb {r.MemoryMb} exceeds this node's {memoryMb} MB of memory");
        }
        if (r.DiskMb > 0)
        {
            var drive = new DriveInfo(root);
            var totalMb = drive.TotalSize / (1024 * 1024);
            if (r.DiskMb > totalMb) throw SandboxException.Invalid($"resources.disk_mb {r.DiskMb} exceeds the {totalMb} MB file system of {root}");
            var freeMb = drive.AvailableFreeSpace / (1024 * 1024);
            if (r.DiskMb > freeMb) throw SandboxException.Exhausted($"resources.disk_mb {r.DiskMb} exceeds the {freeMb} MB free on {root} now");
        }
    }

    private static long MemTotalMb()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        return long.TryParse(kb, out var k) ? k / 1024 : 0;
    }
}
