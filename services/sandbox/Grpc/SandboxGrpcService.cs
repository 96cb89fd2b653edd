using Google.Protobuf;
using Grpc.Core;
using ReBench.Sandbox.Environments;
using ReBench.Sandbox.V1;
using ReBench.ServiceDefaults;
using Environment = ReBench.Sandbox.V1.Environment;

namespace ReBench.Sandbox.Grpc;

/// <summary>Translates the Sandbox API onto the configured <see cref="IEnvironmentDriver"/>.</summary>
public sealed class SandboxGrpcService(IEnvironmentDriver driver, Gpus.SandboxCapacity capacity) : V1.Sandbox.SandboxBase
{
    public override async Task<Environment> CreateEnvironment(CreateEnvironmentRequest request, ServerCallContext context)
    {
        var r = request.Resources;
        var spec = new EnvironmentSpec(
            request.EnvironmentId, request.TaskId, request.AgentFilesDir, request.ProtectedFilesDir,
            r is null ? null : new ResourceSpec(r.Cpus, r.MemoryMb, r.DiskMb, r.GpuCount, r.GpuModel),
            request.Network, request.Labels, request.AllowedEndpoints, request.AgentReadable);
        return ToProto(await driver.CreateAsync(spec, context.CancellationToken));
    }

    public override async Task<Environment> GetEnvironment(GetEnvironmentRequest request, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        return ToProto(await driver.GetAsync(request.EnvironmentId, context.CancellationToken));
    }

    public override async Task Exec(ExecRequest request, IServerStreamWriter<ExecEvent> responseStream, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        Guard.Required(request.Command, "command");
        if (request.TimeoutSeconds < 0) throw Guard.Invalid($"timeout_seconds {request.TimeoutSeconds} is negative");
        var spec = new ExecSpec(
            request.EnvironmentId, request.Command, request.WorkingDir,
            request.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(request.TimeoutSeconds) : null,
            request.Env, request.MaxOutputBytes, request.AsScorer, request.Stdin.Memory)
        {
            ScorerKeepsAgentUser = request.ScorerKeepsAgentUser,
        };

        await foreach (var output in driver.ExecAsync(spec, context.CancellationToken))
        {
            await responseStream.WriteAsync(output switch
            {
                ExecChunk { Stream: OutputStream.Stdout } c => new ExecEvent { Stdout = UnsafeByteOperations.UnsafeWrap(c.Data) },
                ExecChunk c => new ExecEvent { Stderr = UnsafeByteOperations.UnsafeWrap(c.Data) },
                ExecCompleted x => new ExecEvent
                {
                    Exit = new ExecExit
                    {
                        ExitCode = x.ExitCode,
                        TimedOut = x.TimedOut,
                        DurationMs = (long)x.Duration.TotalMilliseconds,
                        StdoutElidedBytes = x.StdoutElidedBytes,
                        StderrElidedBytes = x.StderrElidedBytes,
                        OomKilled = x.OomKilled,
                    },
                },
                _ => throw new InvalidOperationException($"unexpected exec output {output.GetType().Name}"),
            }, context.CancellationToken);
        }
    }

    public override async Task<SetAgentEnvironmentResult> SetAgentEnvironment(SetAgentEnvironmentRequest request, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        Guard.Count(request.Env.Count, "env", 100);
        await driver.SetAgentEnvironmentAsync(request.EnvironmentId, request.Env, request.File.Length == 0 ? null : request.File, context.CancellationToken);
        return new SetAgentEnvironmentResult();
    }

    public override Task ExecInteractive(IAsyncStreamReader<V1.TerminalInput> requestStream, IServerStreamWriter<TerminalOutput> responseStream, ServerCallContext context) =>
        InteractiveExecGrpc.RunAsync(driver, requestStream, responseStream, context.CancellationToken);

    public override async Task<FileContent> ReadFile(ReadFileRequest request, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        var area = request.ProtectedArea ? FileArea.Protected : FileArea.Home;
        var file = await driver.ReadFileAsync(request.EnvironmentId, request.Path, area, request.MaxBytes, context.CancellationToken);
        return new FileContent
        {
            Content = UnsafeByteOperations.UnsafeWrap(file.Content), Size = file.Size, Truncated = file.Truncated, Sha256 = file.Sha256,
        };
    }

    public override async Task<WriteFileResult> WriteFile(WriteFileRequest request, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        Guard.Required(request.Path, "path");
        var result = await driver.WriteFileAsync(
            request.EnvironmentId, request.Path, request.Content.Memory, request.Executable, context.CancellationToken);
        return new WriteFileResult { Size = result.Size, Sha256 = result.Sha256 };
    }

    public override async Task<DestroyEnvironmentResult> DestroyEnvironment(DestroyEnvironmentRequest request, ServerCallContext context)
    {
        Guard.Required(request.EnvironmentId, "environment_id");
        return new DestroyEnvironmentResult { Existed = await driver.DestroyAsync(request.EnvironmentId, context.CancellationToken) };
    }

    public override async Task<ListEnvironmentsResponse> ListEnvironments(ListEnvironmentsRequest request, ServerCallContext context)
    {
        var response = new ListEnvironmentsResponse();
        response.Environments.AddRange((await driver.ListAsync(context.CancellationToken)).Select(e => new V1.EnvironmentListing
        {
            EnvironmentId = e.EnvironmentId, CreatedUnixMs = e.CreatedAt.ToUnixTimeMilliseconds(),
        }));
        return response;
    }

    public override Task<Capacity> GetCapacity(GetCapacityRequest request, ServerCallContext context) =>
        capacity.GetAsync(context.CancellationToken);

    private static Environment ToProto(EnvironmentInfo e) => new()
    {
        EnvironmentId = e.EnvironmentId,
        HomePath = e.HomePath,
        ProtectedPath = e.ProtectedPath,
        Driver = e.Driver,
        State = e.State == EnvironmentState.Destroyed ? "destroyed" : "ready",
        GpuModel = e.Gpus.Model,
        GpuCount = e.Gpus.Count,
        GpuDriverVersion = e.Gpus.DriverVersion,
    };
}
