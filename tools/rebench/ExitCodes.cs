namespace ReBench.Cli;

/// <summary>
/// The one table of exit codes every `rebench` command uses, and the one mapping from what went wrong (a gRPC status
/// from the platform, a local check of the input, a file the user named) to a code and a one-line message. Scripts
/// test these codes, so a class of error exits the same way in every command.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A check ran and failed: verify found a broken chain, reexecute did not reproduce, diff-provenance differs.</summary>
    public const int CheckFailed = 1;
    /// <summary>The command line or a file it names is wrong (unparseable value, out of range, missing file).</summary>
    public const int BadInput = 2;
    /// <summary>The platform refused: no permission, or the target is in the wrong state (e.g. cancel of an ended attempt).</summary>
    public const int Refused = 3;
    public const int NotFound = 4;
    /// <summary>The platform could not answer: down, rate-limited, timed out, or an unexpected failure.</summary>
    public const int Unavailable = 5;

    public const string Help =
        "Exit codes: 0 ok; 1 check failed (verify: broken, reexecute: not reproduced, diff-provenance: differs); " +
        "2 bad input; 3 refused (permission or wrong state); 4 not found; 5 unavailable (platform down, rate-limited, timed out).";

    public static int FromStatus(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => BadInput,
        StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition
            or StatusCode.AlreadyExists or StatusCode.Aborted => Refused,
        StatusCode.NotFound => NotFound,
        _ => Unavailable, // Unavailable, ResourceExhausted (rate limit), DeadlineExceeded, Cancelled, Internal, Unknown, ...
    };

    /// <summary>Exit code and the one line to print for an exception that ended a command; never a stack trace.</summary>
    public static (int Code, string Message) From(Exception e) => e switch
    {
        CliException c => (c.Code, $"error: {OneLine(c.Message)}"),
        RpcException r => (FromStatus(r.StatusCode), $"error: {Describe(r)}"),
        ArgumentException or FormatException or OverflowException => (BadInput, $"error: {OneLine(e.Message)}"),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException
            => (BadInput, $"error: {OneLine(e.Message)}"),
        OperationCanceledException => (Unavailable, "error: cancelled or timed out"),
        _ => (Unavailable, $"error: unexpected {e.GetType().Name}: {OneLine(e.Message)}"),
    };

    private static string Describe(RpcException e)
    {
        var what = e.StatusCode switch
        {
            StatusCode.NotFound => "not found",
            StatusCode.InvalidArgument or StatusCode.OutOfRange => "bad input",
            StatusCode.PermissionDenied => "permission denied",
            StatusCode.Unauthenticated => "not authenticated (check --api-key or REBENCH_API_KEY)",
            StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.Aborted => "refused",
            StatusCode.ResourceExhausted => "rate-limited or over a limit, try again later",
            StatusCode.Unavailable => "platform unavailable",
            StatusCode.DeadlineExceeded => "timed out",
            _ => $"platform error ({e.StatusCode})",
        };
        var detail = OneLine(e.Status.Detail);
        return detail.Length == 0 ? what : $"{what}: {detail}";
    }

    /// <summary>First line, bounded: a server's message may be long or multi-line, a terminal wants one line.</summary>
    public static string OneLine(string? text)
    {
        var line = (text ?? "").Trim().Split('\n')[0].TrimEnd('\r');
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}

/// <summary>A user-facing failure with its exit code; the central handler prints the message and exits with the code.</summary>
public sealed class CliException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;

    public static CliException Bad(string message) => new(ExitCodes.BadInput, message);
}
