using Grpc.Core;

namespace ReBench.ServiceDefaults;

/// <summary>Request validation helpers that fail with a gRPC status naming the field.</summary>
public static class Guard
{
    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));
    public static RpcException FailedPrecondition(string message) => new(new Status(StatusCode.FailedPrecondition, message));

    public static string Required(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) throw Invalid($"{field} is required");
        return value;
    }

    public static Guid Id(string? value, string field)
    {
        Required(value, field);
        if (!Guid.TryParse(value, out var id)) throw Invalid($"{field} '{value}' is not a valid id (expected a UUID)");
        return id;
    }
}
