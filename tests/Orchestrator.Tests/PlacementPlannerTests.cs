using ReBench.Sandbox.V1;

namespace ReBench.Orchestrator.Tests;

/// <summary>The supervisor's placement decision (PlacementPlanner): start, queue with the reason, or fail as impossible.</summary>
public sealed class PlacementPlannerTests
{
    private static readonly PlacementPolicy Strict = new(CpuOvercommit: 1.0, MemoryOvercommit: 1.0);

    private static NodeCapacity Node(int h100Free, int h100Total = 8, int cpus = 64, int cpusRequested = 0, long memory = 512_000, long memoryRequested = 0) =>
        new(cpus, cpusRequested, memory, memoryRequested, [new GpuModelSlots("H100", h100Total, h100Free, ["NVIDIA H100 80GB HBM3"])]);

    private static PlacementRequest Req(int gpus = 0, bool human = false, int cpus = 1, long memory = 1024, string model = "h100") =>
        new(Guid.NewGuid(), human, cpus, memory, gpus, gpus > 0 ? model : "");

    [Fact]
    public void An_attempt_that_fits_starts_and_the_concurrency_limit_still_applies()
    {
        var (a, b) = (Req(gpus: 2), Req(gpus: 2));
        var plan = PlacementPlanner.Plan(Node(8), [a, b], slots: 1, Strict);
        Assert.Equal([new PlacementDecision(a.AttemptId, PlacementKind.Start)], plan); // b fits but has no slot: it waits silently
    }

    [Fact]
    public void Busy_gpus_queue_the_attempt_with_the_reason()
    {
        var a = Req(gpus: 4);
        var d = Assert.Single(PlacementPlanner.Plan(Node(h100Free: 3), [a], 2, Strict));
        Assert.Equal(PlacementKind.Queue, d.Kind);
        Assert.Equal("waiting for node capacity: 4 GPUs of model H100 requested, 3 of 8 free", d.Reason);
    }

    [Fact]
    public void Two_attempts_do_not_both_take_the_last_gpus()
    {
        var (a, b) = (Req(gpus: 2), Req(gpus: 2));
        var plan = PlacementPlanner.Plan(Node(h100Free: 3), [a, b], 2, Strict);
        Assert.Equal(PlacementKind.Start, plan.Single(d => d.AttemptId == a.AttemptId).Kind);
        Assert.Contains("1 of 8 free", plan.Single(d => d.AttemptId == b.AttemptId).Reason);
    }

    [Fact]
    public void More_gpus_than_the_node_has_fails_instead_of_waiting_forever()
    {
        var tooMany = Req(gpus: 9);
        var unknown = Req(gpus: 1, model: "A100");
        var plan = PlacementPlanner.Plan(Node(8), [tooMany, unknown], 2, Strict);
        Assert.Equal(new PlacementDecision(tooMany.AttemptId, PlacementKind.Fail, "the task needs 9 GPUs of model H100 and the sandbox node has 8"), plan[0]);
        Assert.Equal(PlacementKind.Fail, plan[1].Kind);
        Assert.Equal("the task needs 1 GPUs of model 'A100' and the sandbox node has 8 x H100", plan[1].Reason);
        var none = PlacementPlanner.Plan(new NodeCapacity(2, 0, 1000, 0, []), [Req(gpus: 1)], 2, Strict);
        Assert.Contains("the sandbox node has no GPUs", none[0].Reason);
    }

    [Fact]
    public void More_cpus_or_memory_than_the_node_has_fails()
    {
        var plan = PlacementPlanner.Plan(Node(8, cpus: 2, memory: 4000), [Req(cpus: 20), Req(memory: 102_400)], 2, Strict);
        Assert.Equal("the task needs 20 CPUs and the sandbox node has 2", plan[0].Reason);
        Assert.Equal("the task needs 102400 MB of memory and the sandbox node has 4000 MB", plan[1].Reason);
        Assert.All(plan, d => Assert.Equal(PlacementKind.Fail, d.Kind));
    }

    [Fact]
    public void Human_baselines_go_first_and_keep_their_claim_while_they_wait()
    {
        var agent = Req(gpus: 4);
        var human = Req(gpus: 4, human: true);
        var plan = PlacementPlanner.Plan(Node(h100Free: 4), [agent, human], 2, Strict);
        Assert.Equal(human.AttemptId, plan[0].AttemptId);
        Assert.Equal(PlacementKind.Start, plan[0].Kind);
        Assert.Equal(PlacementKind.Queue, plan[1].Kind);

        // The human waits for 4 of which 2 are free: an agent attempt behind it may not take those 2.
        var small = Req(gpus: 2);
        var waiting = Req(gpus: 4, human: true);
        plan = PlacementPlanner.Plan(Node(h100Free: 2), [small, waiting], 2, Strict);
        Assert.All(plan, d => Assert.Equal(PlacementKind.Queue, d.Kind));
        Assert.Contains("0 of 8 free", plan.Single(d => d.AttemptId == small.AttemptId).Reason);
    }

    [Fact]
    public void Cpus_and_memory_are_placed_within_the_overcommit_policy()
    {
        var node = Node(8, cpus: 2, cpusRequested: 6, memory: 24_000, memoryRequested: 16_000);
        var (a, b) = (Req(cpus: 2, memory: 4096), Req(cpus: 2, memory: 2048));
        var plan = PlacementPlanner.Plan(node, [a, b], 2, new PlacementPolicy(CpuOvercommit: 4.0));
        Assert.Equal(PlacementKind.Start, plan[0].Kind); // 8 - 6 = 2 CPUs left
        Assert.Equal(PlacementKind.Queue, plan[1].Kind);
        Assert.Equal("waiting for node capacity: 2 CPUs requested, 0 left to place (node 2 CPUs x 4 overcommit)", plan[1].Reason);
        var memory = PlacementPlanner.Plan(node, [Req(cpus: 1, memory: 9000)], 2, new PlacementPolicy(CpuOvercommit: 4.0));
        Assert.Equal("waiting for node capacity: 9000 MB memory requested, 8000 MB left to place (node 24000 MB)", memory[0].Reason);
    }

    [Fact]
    public void A_model_is_matched_by_its_full_name_too_and_the_capacity_answer_converts()
    {
        var capacity = new Capacity { Driver = "local", CpusTotal = 16, MemoryTotalMb = 64_000 };
        capacity.GpuModels.Add(new GpuModelCapacity { Model = "H100", Total = 2, Free = 1, Used = 1 });
        capacity.Gpus.Add(new GpuDevice { Index = 0, Model = "H100", Name = "NVIDIA H100 80GB HBM3", EnvironmentId = "e1" });
        capacity.Gpus.Add(new GpuDevice { Index = 1, Model = "H100", Name = "NVIDIA H100 80GB HBM3" });
        var node = AttemptPlacement.ToNode(capacity);
        Assert.Equal(["NVIDIA H100 80GB HBM3"], node.Gpus.Single().Names);
        var plan = PlacementPlanner.Plan(node, [Req(gpus: 1, model: "nvidia h100 80gb hbm3"), Req(gpus: 1)], 2, Strict);
        Assert.Equal([PlacementKind.Start, PlacementKind.Queue], plan.Select(d => d.Kind));
    }
}
